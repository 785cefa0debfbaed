// Trimmed by sitedeploy's tools/trim_sdk.py: lines naming removed operations, types or shapes were deleted.

pub(crate) fn reflens_describe_images_output_output_next_token(
    input: &crate::operation::describe_images::DescribeImagesOutput,
) -> ::std::option::Option<&::std::string::String> {
    let input = match &input.next_token {
        ::std::option::Option::None => return ::std::option::Option::None,
        ::std::option::Option::Some(t) => t,
    };
    ::std::option::Option::Some(input)
}

pub(crate) fn reflens_describe_instance_status_output_output_next_token(
    input: &crate::operation::describe_instance_status::DescribeInstanceStatusOutput,
) -> ::std::option::Option<&::std::string::String> {
    let input = match &input.next_token {
        ::std::option::Option::None => return ::std::option::Option::None,
        ::std::option::Option::Some(t) => t,
    };
    ::std::option::Option::Some(input)
}

pub(crate) fn reflens_describe_instance_type_offerings_output_output_next_token(
    input: &crate::operation::describe_instance_type_offerings::DescribeInstanceTypeOfferingsOutput,
) -> ::std::option::Option<&::std::string::String> {
    let input = match &input.next_token {
        ::std::option::Option::None => return ::std::option::Option::None,
        ::std::option::Option::Some(t) => t,
    };
    ::std::option::Option::Some(input)
}

pub(crate) fn reflens_describe_instances_output_output_next_token(
    input: &crate::operation::describe_instances::DescribeInstancesOutput,
) -> ::std::option::Option<&::std::string::String> {
    let input = match &input.next_token {
        ::std::option::Option::None => return ::std::option::Option::None,
        ::std::option::Option::Some(t) => t,
    };
    ::std::option::Option::Some(input)
}

pub(crate) fn reflens_describe_internet_gateways_output_output_next_token(
    input: &crate::operation::describe_internet_gateways::DescribeInternetGatewaysOutput,
) -> ::std::option::Option<&::std::string::String> {
    let input = match &input.next_token {
        ::std::option::Option::None => return ::std::option::Option::None,
        ::std::option::Option::Some(t) => t,
    };
    ::std::option::Option::Some(input)
}

pub(crate) fn reflens_describe_launch_template_versions_output_output_next_token(
    input: &crate::operation::describe_launch_template_versions::DescribeLaunchTemplateVersionsOutput,
) -> ::std::option::Option<&::std::string::String> {
    let input = match &input.next_token {
        ::std::option::Option::None => return ::std::option::Option::None,
        ::std::option::Option::Some(t) => t,
    };
    ::std::option::Option::Some(input)
}

pub(crate) fn reflens_describe_launch_templates_output_output_next_token(
    input: &crate::operation::describe_launch_templates::DescribeLaunchTemplatesOutput,
) -> ::std::option::Option<&::std::string::String> {
    let input = match &input.next_token {
        ::std::option::Option::None => return ::std::option::Option::None,
        ::std::option::Option::Some(t) => t,
    };
    ::std::option::Option::Some(input)
}

pub(crate) fn reflens_describe_managed_prefix_lists_output_output_next_token(
    input: &crate::operation::describe_managed_prefix_lists::DescribeManagedPrefixListsOutput,
) -> ::std::option::Option<&::std::string::String> {
    let input = match &input.next_token {
        ::std::option::Option::None => return ::std::option::Option::None,
        ::std::option::Option::Some(t) => t,
    };
    ::std::option::Option::Some(input)
}

pub(crate) fn reflens_describe_network_interfaces_output_output_next_token(
    input: &crate::operation::describe_network_interfaces::DescribeNetworkInterfacesOutput,
) -> ::std::option::Option<&::std::string::String> {
    let input = match &input.next_token {
        ::std::option::Option::None => return ::std::option::Option::None,
        ::std::option::Option::Some(t) => t,
    };
    ::std::option::Option::Some(input)
}

pub(crate) fn reflens_describe_route_tables_output_output_next_token(
    input: &crate::operation::describe_route_tables::DescribeRouteTablesOutput,
) -> ::std::option::Option<&::std::string::String> {
    let input = match &input.next_token {
        ::std::option::Option::None => return ::std::option::Option::None,
        ::std::option::Option::Some(t) => t,
    };
    ::std::option::Option::Some(input)
}

pub(crate) fn reflens_describe_security_groups_output_output_next_token(
    input: &crate::operation::describe_security_groups::DescribeSecurityGroupsOutput,
) -> ::std::option::Option<&::std::string::String> {
    let input = match &input.next_token {
        ::std::option::Option::None => return ::std::option::Option::None,
        ::std::option::Option::Some(t) => t,
    };
    ::std::option::Option::Some(input)
}

pub(crate) fn reflens_describe_subnets_output_output_next_token(
    input: &crate::operation::describe_subnets::DescribeSubnetsOutput,
) -> ::std::option::Option<&::std::string::String> {
    let input = match &input.next_token {
        ::std::option::Option::None => return ::std::option::Option::None,
        ::std::option::Option::Some(t) => t,
    };
    ::std::option::Option::Some(input)
}

pub(crate) fn reflens_describe_tags_output_output_next_token(
    input: &crate::operation::describe_tags::DescribeTagsOutput,
) -> ::std::option::Option<&::std::string::String> {
    let input = match &input.next_token {
        ::std::option::Option::None => return ::std::option::Option::None,
        ::std::option::Option::Some(t) => t,
    };
    ::std::option::Option::Some(input)
}

pub(crate) fn reflens_describe_volumes_output_output_next_token(
    input: &crate::operation::describe_volumes::DescribeVolumesOutput,
) -> ::std::option::Option<&::std::string::String> {
    let input = match &input.next_token {
        ::std::option::Option::None => return ::std::option::Option::None,
        ::std::option::Option::Some(t) => t,
    };
    ::std::option::Option::Some(input)
}

pub(crate) fn reflens_describe_vpcs_output_output_next_token(
    input: &crate::operation::describe_vpcs::DescribeVpcsOutput,
) -> ::std::option::Option<&::std::string::String> {
    let input = match &input.next_token {
        ::std::option::Option::None => return ::std::option::Option::None,
        ::std::option::Option::Some(t) => t,
    };
    ::std::option::Option::Some(input)
}

pub(crate) fn lens_describe_images_output_output_images(
    input: crate::operation::describe_images::DescribeImagesOutput,
) -> ::std::option::Option<::std::vec::Vec<crate::types::Image>> {
    let input = input.images?;
    ::std::option::Option::Some(input)
}

pub(crate) fn lens_describe_instance_status_output_output_instance_statuses(
    input: crate::operation::describe_instance_status::DescribeInstanceStatusOutput,
) -> ::std::option::Option<::std::vec::Vec<crate::types::InstanceStatus>> {
    let input = input.instance_statuses?;
    ::std::option::Option::Some(input)
}

pub(crate) fn lens_describe_instance_type_offerings_output_output_instance_type_offerings(
    input: crate::operation::describe_instance_type_offerings::DescribeInstanceTypeOfferingsOutput,
) -> ::std::option::Option<::std::vec::Vec<crate::types::InstanceTypeOffering>> {
    let input = input.instance_type_offerings?;
    ::std::option::Option::Some(input)
}

pub(crate) fn lens_describe_instances_output_output_reservations(
    input: crate::operation::describe_instances::DescribeInstancesOutput,
) -> ::std::option::Option<::std::vec::Vec<crate::types::Reservation>> {
    let input = input.reservations?;
    ::std::option::Option::Some(input)
}

pub(crate) fn lens_describe_internet_gateways_output_output_internet_gateways(
    input: crate::operation::describe_internet_gateways::DescribeInternetGatewaysOutput,
) -> ::std::option::Option<::std::vec::Vec<crate::types::InternetGateway>> {
    let input = input.internet_gateways?;
    ::std::option::Option::Some(input)
}

pub(crate) fn lens_describe_launch_template_versions_output_output_launch_template_versions(
    input: crate::operation::describe_launch_template_versions::DescribeLaunchTemplateVersionsOutput,
) -> ::std::option::Option<::std::vec::Vec<crate::types::LaunchTemplateVersion>> {
    let input = input.launch_template_versions?;
    ::std::option::Option::Some(input)
}

pub(crate) fn lens_describe_launch_templates_output_output_launch_templates(
    input: crate::operation::describe_launch_templates::DescribeLaunchTemplatesOutput,
) -> ::std::option::Option<::std::vec::Vec<crate::types::LaunchTemplate>> {
    let input = input.launch_templates?;
    ::std::option::Option::Some(input)
}

pub(crate) fn lens_describe_managed_prefix_lists_output_output_prefix_lists(
    input: crate::operation::describe_managed_prefix_lists::DescribeManagedPrefixListsOutput,
) -> ::std::option::Option<::std::vec::Vec<crate::types::ManagedPrefixList>> {
    let input = input.prefix_lists?;
    ::std::option::Option::Some(input)
}

pub(crate) fn lens_describe_network_interfaces_output_output_network_interfaces(
    input: crate::operation::describe_network_interfaces::DescribeNetworkInterfacesOutput,
) -> ::std::option::Option<::std::vec::Vec<crate::types::NetworkInterface>> {
    let input = input.network_interfaces?;
    ::std::option::Option::Some(input)
}

pub(crate) fn lens_describe_route_tables_output_output_route_tables(
    input: crate::operation::describe_route_tables::DescribeRouteTablesOutput,
) -> ::std::option::Option<::std::vec::Vec<crate::types::RouteTable>> {
    let input = input.route_tables?;
    ::std::option::Option::Some(input)
}

pub(crate) fn lens_describe_security_groups_output_output_security_groups(
    input: crate::operation::describe_security_groups::DescribeSecurityGroupsOutput,
) -> ::std::option::Option<::std::vec::Vec<crate::types::SecurityGroup>> {
    let input = input.security_groups?;
    ::std::option::Option::Some(input)
}

pub(crate) fn lens_describe_subnets_output_output_subnets(
    input: crate::operation::describe_subnets::DescribeSubnetsOutput,
) -> ::std::option::Option<::std::vec::Vec<crate::types::Subnet>> {
    let input = input.subnets?;
    ::std::option::Option::Some(input)
}

pub(crate) fn lens_describe_tags_output_output_tags(
    input: crate::operation::describe_tags::DescribeTagsOutput,
) -> ::std::option::Option<::std::vec::Vec<crate::types::TagDescription>> {
    let input = input.tags?;
    ::std::option::Option::Some(input)
}

pub(crate) fn lens_describe_volumes_output_output_volumes(
    input: crate::operation::describe_volumes::DescribeVolumesOutput,
) -> ::std::option::Option<::std::vec::Vec<crate::types::Volume>> {
    let input = input.volumes?;
    ::std::option::Option::Some(input)
}

pub(crate) fn lens_describe_vpcs_output_output_vpcs(
    input: crate::operation::describe_vpcs::DescribeVpcsOutput,
) -> ::std::option::Option<::std::vec::Vec<crate::types::Vpc>> {
    let input = input.vpcs?;
    ::std::option::Option::Some(input)
}
