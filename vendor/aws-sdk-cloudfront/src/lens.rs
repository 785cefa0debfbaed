// Trimmed by sitedeploy's tools/trim_sdk.py: lines naming removed operations, types or shapes were deleted.

pub(crate) fn reflens_list_distributions_output_output_distribution_list_next_marker(
    input: &crate::operation::list_distributions::ListDistributionsOutput,
) -> ::std::option::Option<&::std::string::String> {
    let input = match &input.distribution_list {
        ::std::option::Option::None => return ::std::option::Option::None,
        ::std::option::Option::Some(t) => t,
    };
    let input = match &input.next_marker {
        ::std::option::Option::None => return ::std::option::Option::None,
        ::std::option::Option::Some(t) => t,
    };
    ::std::option::Option::Some(input)
}

pub(crate) fn lens_list_distributions_output_output_distribution_list_items(
    input: crate::operation::list_distributions::ListDistributionsOutput,
) -> ::std::option::Option<::std::vec::Vec<crate::types::DistributionSummary>> {
    let input = input.distribution_list?;
    let input = input.items?;
    ::std::option::Option::Some(input)
}
