// Trimmed by sitedeploy's tools/trim_sdk.py: lines naming removed operations, types or shapes were deleted.

#[allow(clippy::needless_lifetimes)]
#[allow(clippy::let_and_return)]
pub(crate) mod matchers;
