//! `deploy`: parse flags and run the library's deploy; see `sitedeploy::cli`.
fn main() -> std::process::ExitCode {
    sitedeploy::cli::deploy_main()
}
