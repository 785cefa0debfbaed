// Trimmed by sitedeploy's tools/trim_sdk.py: lines naming removed operations, types or shapes were deleted.

pub(crate) fn reflens_list_roles_output_output_marker(
    input: &crate::operation::list_roles::ListRolesOutput,
) -> ::std::option::Option<&::std::string::String> {
    let input = match &input.marker {
        ::std::option::Option::None => return ::std::option::Option::None,
        ::std::option::Option::Some(t) => t,
    };
    ::std::option::Option::Some(input)
}

pub(crate) fn lens_list_roles_output_output_roles(
    input: crate::operation::list_roles::ListRolesOutput,
) -> ::std::option::Option<::std::vec::Vec<crate::types::Role>> {
    let input = input.roles;
    ::std::option::Option::Some(input)
}
