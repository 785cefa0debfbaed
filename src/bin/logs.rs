//! `logs`: print each web server's boot output; see `sitedeploy::cli`.
fn main() -> std::process::ExitCode {
    sitedeploy::cli::logs_main()
}
