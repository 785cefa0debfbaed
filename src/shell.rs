//! Commands as the user types them: words quoted for this platform's shell,
//! and this tool's other binaries named the way the user ran this one. A leaf
//! module (it uses nothing of the crate), so every view can print a command.

use std::path::{Path, PathBuf};

/// Quotes a word for this platform's shell when it needs it (see [`quote_for`]).
pub fn quote(s: &str) -> String {
    quote_for(s, cfg!(windows))
}

/// Quotes a word for a command line: POSIX shells get single quotes (a quote
/// inside closed, escaped, reopened); on Windows (PowerShell and cmd alike)
/// double quotes, which neither shell expands inside a path (a path cannot
/// hold `"`).
pub fn quote_for(s: &str, windows: bool) -> String {
    let plain = |c: char| {
        c.is_ascii_alphanumeric()
            || matches!(c, '/' | '.' | '_' | '-' | '+' | ':' | '@')
            || (windows && c == '\\')
    };
    if !s.is_empty() && s.chars().all(plain) {
        s.to_string()
    } else if windows {
        format!("\"{s}\"")
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// How the user runs binary `bin` of this tool with `args`, the way they ran
/// this one: through cargo (`cargo run` sets `CARGO` for the program it runs)
/// as `cargo run [--release] --bin BIN -- ARGS`, else by the same path as this
/// binary (its directory, when it was started by a path), else by name.
pub fn command(bin: &str, args: &str) -> String {
    let via_cargo = std::env::var_os("CARGO").is_some();
    let argv0 = std::env::args_os().next().map(PathBuf::from);
    command_for(
        bin,
        args,
        via_cargo,
        !cfg!(debug_assertions),
        argv0.as_deref(),
    )
}

/// [`command`] with its inputs given (tested).
pub fn command_for(
    bin: &str,
    args: &str,
    via_cargo: bool,
    release: bool,
    argv0: Option<&Path>,
) -> String {
    if via_cargo {
        let profile = if release { " --release" } else { "" };
        return format!("cargo run{profile} --bin {bin} -- {args}");
    }
    let exe = match argv0
        .and_then(|p| p.parent())
        .filter(|d| !d.as_os_str().is_empty())
    {
        Some(dir) => {
            let name = format!("{bin}{}", std::env::consts::EXE_SUFFIX);
            quote(&dir.join(name).display().to_string())
        }
        None => bin.to_string(),
    };
    format!("{exe} {args}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_paths_for_the_shell() {
        assert_eq!(quote_for("/home/me/k.pem", false), "/home/me/k.pem");
        assert_eq!(quote_for("/my keys/k.pem", false), "'/my keys/k.pem'");
        assert_eq!(quote_for("it's", false), "'it'\\''s'");
        // Windows: backslashes are plain; spaces and the rest get double quotes.
        assert_eq!(quote_for(r"C:\Users\me\k.pem", true), r"C:\Users\me\k.pem");
        assert_eq!(
            quote_for(r"C:\Users\Jo Doe\k.pem", true),
            r#""C:\Users\Jo Doe\k.pem""#
        );
        assert_eq!(quote_for("it's", true), "\"it's\"");
        assert_eq!(quote("a b"), quote_for("a b", cfg!(windows)));
    }

    #[test]
    fn commands_are_printed_the_way_the_tool_was_run() {
        let args = "--config deploy.toml --yes";
        assert_eq!(
            command_for("cleanup", args, true, true, Some(Path::new("x"))),
            "cargo run --release --bin cleanup -- --config deploy.toml --yes"
        );
        assert_eq!(
            command_for("cleanup", args, true, false, None),
            "cargo run --bin cleanup -- --config deploy.toml --yes"
        );
        assert_eq!(
            command_for("cleanup", args, false, true, Some(Path::new("deploy"))),
            "cleanup --config deploy.toml --yes"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_binary_run_by_path_names_its_sibling() {
        let args = "--yes";
        let at = |p: &str| command_for("cleanup", args, false, true, Some(Path::new(p)));
        assert_eq!(
            at("./target/release/deploy"),
            "./target/release/cleanup --yes"
        );
        assert_eq!(at("/opt/my tools/deploy"), "'/opt/my tools/cleanup' --yes");
    }

    #[cfg(windows)]
    #[test]
    fn a_binary_run_by_path_names_its_sibling() {
        let args = "--yes";
        let at = |p: &str| command_for("cleanup", args, false, true, Some(Path::new(p)));
        assert_eq!(at(r"C:\tools\deploy.exe"), r"C:\tools\cleanup.exe --yes");
        assert_eq!(
            at(r"C:\my tools\deploy.exe"),
            r#""C:\my tools\cleanup.exe" --yes"#
        );
    }
}
