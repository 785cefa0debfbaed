//! `cleanup`: parse flags and run the library's cleanup; see `sitedeploy::cli`.
fn main() -> std::process::ExitCode {
    sitedeploy::cli::cleanup_main()
}
