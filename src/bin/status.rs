//! `status`: parse flags and show the deployment; see `sitedeploy::cli`.
fn main() -> std::process::ExitCode {
    sitedeploy::cli::status_main()
}
