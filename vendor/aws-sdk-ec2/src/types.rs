// Trimmed by sitedeploy's tools/trim_sdk.py: lines naming removed operations, types or shapes were deleted.

pub use crate::types::_iam_instance_profile_specification::IamInstanceProfileSpecification;

pub use crate::types::_route_table_association_state::RouteTableAssociationState;

pub use crate::types::_subnet_ipv6_cidr_block_association::SubnetIpv6CidrBlockAssociation;

pub use crate::types::_vpc_ipv6_cidr_block_association::VpcIpv6CidrBlockAssociation;

pub use crate::types::_vpc_cidr_block_association::VpcCidrBlockAssociation;

pub use crate::types::_volume_attachment_state::VolumeAttachmentState;

pub use crate::types::_volume_type::VolumeType;

pub use crate::types::_instance_requirements_request::InstanceRequirementsRequest;

pub use crate::types::_subnet::Subnet;

pub use crate::types::_vpc::Vpc;

pub use crate::types::_internet_gateway::InternetGateway;

pub use crate::types::_key_type::KeyType;

pub use crate::types::_request_launch_template_data::RequestLaunchTemplateData;

pub use crate::types::_operator_request::OperatorRequest;

pub use crate::types::_launch_template::LaunchTemplate;

pub use crate::types::_validation_warning::ValidationWarning;

pub use crate::types::_launch_template_version::LaunchTemplateVersion;

pub use crate::types::_managed_prefix_list::ManagedPrefixList;

pub use crate::types::_connection_tracking_specification_request::ConnectionTrackingSpecificationRequest;

pub use crate::types::_network_interface::NetworkInterface;

pub use crate::types::_route_table::RouteTable;

pub use crate::types::_sse_type::SseType;

pub use crate::types::_operator_response::OperatorResponse;

pub use crate::types::_volume_state::VolumeState;

pub use crate::types::_vpc_encryption_control_configuration::VpcEncryptionControlConfiguration;

pub use crate::types::_tenancy::Tenancy;

pub use crate::types::_vpc_encryption_control::VpcEncryptionControl;

pub use crate::types::_attribute_value::AttributeValue;

pub use crate::types::_instance_attribute_name::InstanceAttributeName;

pub use crate::types::_attribute_boolean_value::AttributeBooleanValue;

pub use crate::types::_enclave_options::EnclaveOptions;

pub use crate::types::_location_type::LocationType;

pub use crate::types::_network_interface_attachment::NetworkInterfaceAttachment;

pub use crate::types::_instance_type::InstanceType;

pub use crate::types::_response_launch_template_data::ResponseLaunchTemplateData;

pub use crate::types::_boot_mode_values::BootModeValues;

pub use crate::types::_platform_values::PlatformValues;

pub use crate::types::_vpc_encryption_control_exclusion_state_input::VpcEncryptionControlExclusionStateInput;

pub use crate::types::_enclave_options_request::EnclaveOptionsRequest;

pub use crate::types::_capacity_reservation_specification::CapacityReservationSpecification;

pub use crate::types::_nested_virtualization_specification::NestedVirtualizationSpecification;

pub use crate::types::_instance_status_event::InstanceStatusEvent;

pub use crate::types::_instance_auto_recovery_state::InstanceAutoRecoveryState;

pub use crate::types::_instance_reboot_migration_state::InstanceRebootMigrationState;

pub use crate::types::_http_tokens_state::HttpTokensState;

pub use crate::types::_instance_metadata_endpoint_state::InstanceMetadataEndpointState;

pub use crate::types::_instance_metadata_protocol_state::InstanceMetadataProtocolState;

pub use crate::types::_instance_metadata_tags_state::InstanceMetadataTagsState;

pub use crate::types::_instance_metadata_options_response::InstanceMetadataOptionsResponse;

pub use crate::types::_instance_bandwidth_weighting::InstanceBandwidthWeighting;

pub use crate::types::_hostname_type::HostnameType;

pub use crate::types::_vpc_encryption_control_mode::VpcEncryptionControlMode;

pub use crate::types::_tpm_support_values::TpmSupportValues;

pub use crate::types::_imds_support_values::ImdsSupportValues;

pub use crate::types::_architecture_values::ArchitectureValues;

pub use crate::types::_instance_interruption_behavior::InstanceInterruptionBehavior;

pub use crate::types::_spot_instance_type::SpotInstanceType;

pub use crate::types::_run_instances_monitoring_enabled::RunInstancesMonitoringEnabled;

pub use crate::types::_placement::Placement;

pub use crate::types::_launch_template_specification::LaunchTemplateSpecification;

pub use crate::types::_instance_market_options_request::InstanceMarketOptionsRequest;

pub use crate::types::_credit_specification_request::CreditSpecificationRequest;

pub use crate::types::_cpu_options_request::CpuOptionsRequest;

pub use crate::types::_hibernation_options_request::HibernationOptionsRequest;

pub use crate::types::_instance_metadata_options_request::InstanceMetadataOptionsRequest;

pub use crate::types::_private_dns_name_options_request::PrivateDnsNameOptionsRequest;

pub use crate::types::_instance_maintenance_options_request::InstanceMaintenanceOptionsRequest;

pub use crate::types::_instance_network_performance_options_request::InstanceNetworkPerformanceOptionsRequest;

pub use crate::types::_shutdown_behavior::ShutdownBehavior;

pub use crate::types::_tag_specification::TagSpecification;

pub use crate::types::_ipv4_prefix_specification::Ipv4PrefixSpecification;

pub use crate::types::_iam_instance_profile::IamInstanceProfile;

pub use crate::types::_route_table_association_state_code::RouteTableAssociationStateCode;

pub use crate::types::_subnet_cidr_block_state::SubnetCidrBlockState;

pub use crate::types::_ipv6_address_attribute::Ipv6AddressAttribute;

pub use crate::types::_ip_source::IpSource;

pub use crate::types::_vpc_cidr_block_state::VpcCidrBlockState;

pub use crate::types::_attachment_status::AttachmentStatus;

pub use crate::types::_ip_permission::IpPermission;

pub use crate::types::_security_group_rule::SecurityGroupRule;

pub use crate::types::_tag::Tag;

pub use crate::types::_volume::Volume;

pub use crate::types::_v_cpu_count_range_request::VCpuCountRangeRequest;

pub use crate::types::_memory_mib_request::MemoryMiBRequest;

pub use crate::types::_memory_gib_per_v_cpu_request::MemoryGiBPerVCpuRequest;

pub use crate::types::_bare_metal::BareMetal;

pub use crate::types::_burstable_performance::BurstablePerformance;

pub use crate::types::_network_interface_count_request::NetworkInterfaceCountRequest;

pub use crate::types::_local_storage::LocalStorage;

pub use crate::types::_total_local_storage_gb_request::TotalLocalStorageGbRequest;

pub use crate::types::_baseline_ebs_bandwidth_mbps_request::BaselineEbsBandwidthMbpsRequest;

pub use crate::types::_accelerator_count_request::AcceleratorCountRequest;

pub use crate::types::_accelerator_total_memory_mib_request::AcceleratorTotalMemoryMiBRequest;

pub use crate::types::_network_bandwidth_gbps_request::NetworkBandwidthGbpsRequest;

pub use crate::types::_baseline_performance_factors_request::BaselinePerformanceFactorsRequest;

pub use crate::types::_private_dns_name_options_on_launch::PrivateDnsNameOptionsOnLaunch;

pub use crate::types::_block_public_access_states::BlockPublicAccessStates;

pub use crate::types::_subnet_state::SubnetState;

pub use crate::types::_vpc_state::VpcState;

pub use crate::types::_block_device_mapping::BlockDeviceMapping;

pub use crate::types::_launch_template_iam_instance_profile_specification_request::LaunchTemplateIamInstanceProfileSpecificationRequest;

pub use crate::types::_launch_templates_monitoring_request::LaunchTemplatesMonitoringRequest;

pub use crate::types::_launch_template_placement_request::LaunchTemplatePlacementRequest;

pub use crate::types::_launch_template_instance_market_options_request::LaunchTemplateInstanceMarketOptionsRequest;

pub use crate::types::_launch_template_cpu_options_request::LaunchTemplateCpuOptionsRequest;

pub use crate::types::_launch_template_capacity_reservation_specification_request::LaunchTemplateCapacityReservationSpecificationRequest;

pub use crate::types::_launch_template_hibernation_options_request::LaunchTemplateHibernationOptionsRequest;

pub use crate::types::_launch_template_instance_metadata_options_request::LaunchTemplateInstanceMetadataOptionsRequest;

pub use crate::types::_launch_template_enclave_options_request::LaunchTemplateEnclaveOptionsRequest;

pub use crate::types::_launch_template_private_dns_name_options_request::LaunchTemplatePrivateDnsNameOptionsRequest;

pub use crate::types::_launch_template_instance_maintenance_options_request::LaunchTemplateInstanceMaintenanceOptionsRequest;

pub use crate::types::_launch_template_network_performance_options_request::LaunchTemplateNetworkPerformanceOptionsRequest;

pub use crate::types::_state_reason::StateReason;

pub use crate::types::_prefix_list_state::PrefixListState;

pub use crate::types::_ipv4_prefix_specification_request::Ipv4PrefixSpecificationRequest;

pub use crate::types::_ipv6_prefix_specification_request::Ipv6PrefixSpecificationRequest;

pub use crate::types::_private_ip_address_specification::PrivateIpAddressSpecification;

pub use crate::types::_instance_ipv6_address::InstanceIpv6Address;

pub use crate::types::_network_interface_association::NetworkInterfaceAssociation;

pub use crate::types::_connection_tracking_configuration::ConnectionTrackingConfiguration;

pub use crate::types::_network_interface_type::NetworkInterfaceType;

pub use crate::types::_public_ip_dns_name_options::PublicIpDnsNameOptions;

pub use crate::types::_network_interface_status::NetworkInterfaceStatus;

pub use crate::types::_volume_attachment::VolumeAttachment;

pub use crate::types::_vpc_encryption_control_state::VpcEncryptionControlState;

pub use crate::types::_vpc_encryption_control_exclusions::VpcEncryptionControlExclusions;

pub use crate::types::_filter::Filter;

pub use crate::types::_product_code::ProductCode;

pub use crate::types::_image::Image;

pub use crate::types::_instance_block_device_mapping::InstanceBlockDeviceMapping;

pub use crate::types::_group_identifier::GroupIdentifier;

pub use crate::types::_reservation::Reservation;

pub use crate::types::_instance_status::InstanceStatus;

pub use crate::types::_instance_type_offering::InstanceTypeOffering;

pub use crate::types::_key_pair_info::KeyPairInfo;

pub use crate::types::_attachment_ena_srd_specification::AttachmentEnaSrdSpecification;

pub use crate::types::_region::Region;

pub use crate::types::_security_group::SecurityGroup;

pub use crate::types::_tag_description::TagDescription;

pub use crate::types::_virtualization_type::VirtualizationType;

pub use crate::types::_launch_template_iam_instance_profile_specification::LaunchTemplateIamInstanceProfileSpecification;

pub use crate::types::_launch_templates_monitoring::LaunchTemplatesMonitoring;

pub use crate::types::_launch_template_placement::LaunchTemplatePlacement;

pub use crate::types::_launch_template_instance_market_options::LaunchTemplateInstanceMarketOptions;

pub use crate::types::_credit_specification::CreditSpecification;

pub use crate::types::_launch_template_cpu_options::LaunchTemplateCpuOptions;

pub use crate::types::_launch_template_capacity_reservation_specification_response::LaunchTemplateCapacityReservationSpecificationResponse;

pub use crate::types::_launch_template_hibernation_options::LaunchTemplateHibernationOptions;

pub use crate::types::_launch_template_instance_metadata_options::LaunchTemplateInstanceMetadataOptions;

pub use crate::types::_launch_template_enclave_options::LaunchTemplateEnclaveOptions;

pub use crate::types::_instance_requirements::InstanceRequirements;

pub use crate::types::_launch_template_private_dns_name_options::LaunchTemplatePrivateDnsNameOptions;

pub use crate::types::_launch_template_instance_maintenance_options::LaunchTemplateInstanceMaintenanceOptions;

pub use crate::types::_launch_template_network_performance_options::LaunchTemplateNetworkPerformanceOptions;

pub use crate::types::_capacity_reservation_preference::CapacityReservationPreference;

pub use crate::types::_capacity_reservation_target::CapacityReservationTarget;

pub use crate::types::_event_code::EventCode;

pub use crate::types::_instance_metadata_options_state::InstanceMetadataOptionsState;

pub use crate::types::_revoked_security_group_rule::RevokedSecurityGroupRule;

pub use crate::types::_elastic_gpu_specification::ElasticGpuSpecification;

pub use crate::types::_elastic_inference_accelerator::ElasticInferenceAccelerator;

pub use crate::types::_market_type::MarketType;

pub use crate::types::_spot_market_options::SpotMarketOptions;

pub use crate::types::_amd_sev_snp_specification::AmdSevSnpSpecification;

pub use crate::types::_license_configuration_request::LicenseConfigurationRequest;

pub use crate::types::_instance_secondary_interface_specification_request::InstanceSecondaryInterfaceSpecificationRequest;

pub use crate::types::_instance_network_interface_specification::InstanceNetworkInterfaceSpecification;

pub use crate::types::_instance::Instance;

pub use crate::types::_instance_state_change::InstanceStateChange;

pub use crate::types::_resource_type::ResourceType;

pub use crate::types::_subnet_cidr_block_state_code::SubnetCidrBlockStateCode;

pub use crate::types::_vpc_cidr_block_state_code::VpcCidrBlockStateCode;

pub use crate::types::_referenced_security_group::ReferencedSecurityGroup;

pub use crate::types::_cpu_manufacturer::CpuManufacturer;

pub use crate::types::_instance_generation::InstanceGeneration;

pub use crate::types::_local_storage_type::LocalStorageType;

pub use crate::types::_accelerator_type::AcceleratorType;

pub use crate::types::_accelerator_manufacturer::AcceleratorManufacturer;

pub use crate::types::_accelerator_name::AcceleratorName;

pub use crate::types::_cpu_performance_factor_request::CpuPerformanceFactorRequest;

pub use crate::types::_block_public_access_mode::BlockPublicAccessMode;

pub use crate::types::_internet_gateway_attachment::InternetGatewayAttachment;

pub use crate::types::_ebs_block_device::EbsBlockDevice;

pub use crate::types::_launch_template_block_device_mapping_request::LaunchTemplateBlockDeviceMappingRequest;

pub use crate::types::_launch_template_instance_network_interface_specification_request::LaunchTemplateInstanceNetworkInterfaceSpecificationRequest;

pub use crate::types::_launch_template_tag_specification_request::LaunchTemplateTagSpecificationRequest;

pub use crate::types::_launch_template_elastic_inference_accelerator::LaunchTemplateElasticInferenceAccelerator;

pub use crate::types::_launch_template_spot_market_options_request::LaunchTemplateSpotMarketOptionsRequest;

pub use crate::types::_launch_template_license_configuration_request::LaunchTemplateLicenseConfigurationRequest;

pub use crate::types::_launch_template_http_tokens_state::LaunchTemplateHttpTokensState;

pub use crate::types::_launch_template_instance_metadata_endpoint_state::LaunchTemplateInstanceMetadataEndpointState;

pub use crate::types::_launch_template_instance_metadata_protocol_ipv6::LaunchTemplateInstanceMetadataProtocolIpv6;

pub use crate::types::_launch_template_instance_metadata_tags_state::LaunchTemplateInstanceMetadataTagsState;

pub use crate::types::_launch_template_auto_recovery_state::LaunchTemplateAutoRecoveryState;

pub use crate::types::_launch_template_instance_secondary_interface_specification_request::LaunchTemplateInstanceSecondaryInterfaceSpecificationRequest;

pub use crate::types::_validation_error::ValidationError;

pub use crate::types::_network_interface_ipv6_address::NetworkInterfaceIpv6Address;

pub use crate::types::_network_interface_private_ip_address::NetworkInterfacePrivateIpAddress;

pub use crate::types::_ipv6_prefix_specification::Ipv6PrefixSpecification;

pub use crate::types::_route_table_association::RouteTableAssociation;

pub use crate::types::_propagating_vgw::PropagatingVgw;

pub use crate::types::_route::Route;

pub use crate::types::_vpc_encryption_control_exclusion::VpcEncryptionControlExclusion;

pub use crate::types::_vpc_encryption_control_exclusion_state::VpcEncryptionControlExclusionState;

pub use crate::types::_product_code_values::ProductCodeValues;

pub use crate::types::_hypervisor_type::HypervisorType;

pub use crate::types::_device_type::DeviceType;

pub use crate::types::_scan_results::ScanResults;

pub use crate::types::_instance_type_specification::InstanceTypeSpecification;

pub use crate::types::_image_state::ImageState;

pub use crate::types::_image_type_values::ImageTypeValues;

pub use crate::types::_ebs_instance_block_device::EbsInstanceBlockDevice;

pub use crate::types::_instance_state::InstanceState;

pub use crate::types::_instance_status_summary::InstanceStatusSummary;

pub use crate::types::_ebs_status_summary::EbsStatusSummary;

pub use crate::types::_application_status_summary::ApplicationStatusSummary;

pub use crate::types::_performance_status_summary::PerformanceStatusSummary;

pub use crate::types::_attachment_ena_srd_udp_specification::AttachmentEnaSrdUdpSpecification;

pub use crate::types::_secondary_interface_type::SecondaryInterfaceType;

pub use crate::types::_secondary_interface_status::SecondaryInterfaceStatus;

pub use crate::types::_severity_label::SeverityLabel;

pub use crate::types::_launch_template_block_device_mapping::LaunchTemplateBlockDeviceMapping;

pub use crate::types::_launch_template_instance_network_interface_specification::LaunchTemplateInstanceNetworkInterfaceSpecification;

pub use crate::types::_launch_template_tag_specification::LaunchTemplateTagSpecification;

pub use crate::types::_elastic_gpu_specification_response::ElasticGpuSpecificationResponse;

pub use crate::types::_launch_template_elastic_inference_accelerator_response::LaunchTemplateElasticInferenceAcceleratorResponse;

pub use crate::types::_launch_template_spot_market_options::LaunchTemplateSpotMarketOptions;

pub use crate::types::_capacity_reservation_target_response::CapacityReservationTargetResponse;

pub use crate::types::_launch_template_license_configuration::LaunchTemplateLicenseConfiguration;

pub use crate::types::_launch_template_instance_metadata_options_state::LaunchTemplateInstanceMetadataOptionsState;

pub use crate::types::_v_cpu_count_range::VCpuCountRange;

pub use crate::types::_memory_mib::MemoryMiB;

pub use crate::types::_memory_gib_per_v_cpu::MemoryGiBPerVCpu;

pub use crate::types::_network_interface_count::NetworkInterfaceCount;

pub use crate::types::_total_local_storage_gb::TotalLocalStorageGb;

pub use crate::types::_baseline_ebs_bandwidth_mbps::BaselineEbsBandwidthMbps;

pub use crate::types::_accelerator_count::AcceleratorCount;

pub use crate::types::_accelerator_total_memory_mib::AcceleratorTotalMemoryMiB;

pub use crate::types::_network_bandwidth_gbps::NetworkBandwidthGbps;

pub use crate::types::_baseline_performance_factors::BaselinePerformanceFactors;

pub use crate::types::_launch_template_instance_secondary_interface_specification::LaunchTemplateInstanceSecondaryInterfaceSpecification;

pub use crate::types::_monitoring::Monitoring;

pub use crate::types::_ena_srd_specification_request::EnaSrdSpecificationRequest;

pub use crate::types::_instance_lifecycle_type::InstanceLifecycleType;

pub use crate::types::_cpu_options::CpuOptions;

pub use crate::types::_capacity_reservation_specification_response::CapacityReservationSpecificationResponse;

pub use crate::types::_hibernation_options::HibernationOptions;

pub use crate::types::_private_dns_name_options_response::PrivateDnsNameOptionsResponse;

pub use crate::types::_instance_maintenance_options::InstanceMaintenanceOptions;

pub use crate::types::_instance_boot_mode_values::InstanceBootModeValues;

pub use crate::types::_instance_network_performance_options::InstanceNetworkPerformanceOptions;

pub use crate::types::_user_id_group_pair::UserIdGroupPair;

pub use crate::types::_ip_range::IpRange;

pub use crate::types::_ipv6_range::Ipv6Range;

pub use crate::types::_prefix_list_id::PrefixListId;

pub use crate::types::_launch_template_ebs_block_device_request::LaunchTemplateEbsBlockDeviceRequest;

pub use crate::types::_route_origin::RouteOrigin;

pub use crate::types::_route_state::RouteState;

pub use crate::types::_image_watermark::ImageWatermark;

pub use crate::types::_instance_state_name::InstanceStateName;

pub use crate::types::_summary_status::SummaryStatus;

pub use crate::types::_region_geography::RegionGeography;

pub use crate::types::_launch_template_ebs_block_device::LaunchTemplateEbsBlockDevice;

pub use crate::types::_launch_template_ena_srd_specification::LaunchTemplateEnaSrdSpecification;

pub use crate::types::_connection_tracking_specification::ConnectionTrackingSpecification;

pub use crate::types::_cpu_performance_factor::CpuPerformanceFactor;

pub use crate::types::_monitoring_state::MonitoringState;

pub use crate::types::_instance_secondary_interface_private_ip_address_request::InstanceSecondaryInterfacePrivateIpAddressRequest;

pub use crate::types::_ena_srd_udp_specification_request::EnaSrdUdpSpecificationRequest;

pub use crate::types::_elastic_gpu_association::ElasticGpuAssociation;

pub use crate::types::_elastic_inference_accelerator_association::ElasticInferenceAcceleratorAssociation;

pub use crate::types::_instance_network_interface::InstanceNetworkInterface;

pub use crate::types::_license_configuration::LicenseConfiguration;

pub use crate::types::_instance_secondary_interface::InstanceSecondaryInterface;

pub use crate::types::_performance_factor_reference_request::PerformanceFactorReferenceRequest;

pub use crate::types::_instance_ipv6_address_request::InstanceIpv6AddressRequest;

pub use crate::types::_secondary_interface_private_ip_address_specification_request::SecondaryInterfacePrivateIpAddressSpecificationRequest;

pub use crate::types::_instance_type_item::InstanceTypeItem;

pub use crate::types::_instance_status_details::InstanceStatusDetails;

pub use crate::types::_ebs_status_details::EbsStatusDetails;

pub use crate::types::_ipv4_prefix_specification_response::Ipv4PrefixSpecificationResponse;

pub use crate::types::_ipv6_prefix_specification_response::Ipv6PrefixSpecificationResponse;

pub use crate::types::_launch_template_ena_srd_udp_specification::LaunchTemplateEnaSrdUdpSpecification;

pub use crate::types::_secondary_interface_private_ip_address_specification::SecondaryInterfacePrivateIpAddressSpecification;

pub use crate::types::_instance_network_interface_association::InstanceNetworkInterfaceAssociation;

pub use crate::types::_instance_network_interface_attachment::InstanceNetworkInterfaceAttachment;

pub use crate::types::_connection_tracking_specification_response::ConnectionTrackingSpecificationResponse;

pub use crate::types::_instance_secondary_interface_attachment::InstanceSecondaryInterfaceAttachment;

pub use crate::types::_status_name::StatusName;

pub use crate::types::_status_type::StatusType;

pub use crate::types::_performance_factor_reference::PerformanceFactorReference;

pub use crate::types::_instance_attachment_ena_srd_specification::InstanceAttachmentEnaSrdSpecification;

pub use crate::types::_instance_private_ip_address::InstancePrivateIpAddress;

pub use crate::types::_instance_ipv4_prefix::InstanceIpv4Prefix;

pub use crate::types::_instance_ipv6_prefix::InstanceIpv6Prefix;

pub use crate::types::_instance_secondary_interface_private_ip_address::InstanceSecondaryInterfacePrivateIpAddress;

pub use crate::types::_instance_attachment_ena_srd_udp_specification::InstanceAttachmentEnaSrdUdpSpecification;

mod _accelerator_count;

mod _accelerator_count_request;

mod _accelerator_manufacturer;

mod _accelerator_name;

mod _accelerator_total_memory_mib;

mod _accelerator_total_memory_mib_request;

mod _accelerator_type;

mod _amd_sev_snp_specification;

mod _application_status_summary;

mod _architecture_values;

mod _attachment_ena_srd_specification;

mod _attachment_ena_srd_udp_specification;

mod _attachment_status;

mod _attribute_boolean_value;

mod _attribute_value;

mod _bare_metal;

mod _baseline_ebs_bandwidth_mbps;

mod _baseline_ebs_bandwidth_mbps_request;

mod _baseline_performance_factors;

mod _baseline_performance_factors_request;

mod _block_device_mapping;

mod _block_public_access_mode;

mod _block_public_access_states;

mod _boot_mode_values;

mod _burstable_performance;

mod _capacity_reservation_preference;

mod _capacity_reservation_specification;

mod _capacity_reservation_specification_response;

mod _capacity_reservation_target;

mod _capacity_reservation_target_response;

mod _connection_tracking_configuration;

mod _connection_tracking_specification;

mod _connection_tracking_specification_request;

mod _connection_tracking_specification_response;

mod _cpu_manufacturer;

mod _cpu_options;

mod _cpu_options_request;

mod _cpu_performance_factor;

mod _cpu_performance_factor_request;

mod _credit_specification;

mod _credit_specification_request;

mod _device_type;

mod _ebs_block_device;

mod _ebs_instance_block_device;

mod _ebs_status_details;

mod _ebs_status_summary;

mod _elastic_gpu_association;

mod _elastic_gpu_specification;

mod _elastic_gpu_specification_response;

mod _elastic_inference_accelerator;

mod _elastic_inference_accelerator_association;

mod _ena_srd_specification_request;

mod _ena_srd_udp_specification_request;

mod _enclave_options;

mod _enclave_options_request;

mod _event_code;

mod _filter;

mod _group_identifier;

mod _hibernation_options;

mod _hibernation_options_request;

mod _hostname_type;

mod _http_tokens_state;

mod _hypervisor_type;

mod _iam_instance_profile;

mod _iam_instance_profile_specification;

mod _image;

mod _image_state;

mod _image_type_values;

mod _image_watermark;

mod _imds_support_values;

mod _instance;

mod _instance_attachment_ena_srd_specification;

mod _instance_attachment_ena_srd_udp_specification;

mod _instance_attribute_name;

mod _instance_auto_recovery_state;

mod _instance_bandwidth_weighting;

mod _instance_block_device_mapping;

mod _instance_boot_mode_values;

mod _instance_generation;

mod _instance_interruption_behavior;

mod _instance_ipv4_prefix;

mod _instance_ipv6_address;

mod _instance_ipv6_address_request;

mod _instance_ipv6_prefix;

mod _instance_lifecycle_type;

mod _instance_maintenance_options;

mod _instance_maintenance_options_request;

mod _instance_market_options_request;

mod _instance_metadata_endpoint_state;

mod _instance_metadata_options_request;

mod _instance_metadata_options_response;

mod _instance_metadata_options_state;

mod _instance_metadata_protocol_state;

mod _instance_metadata_tags_state;

mod _instance_network_interface;

mod _instance_network_interface_association;

mod _instance_network_interface_attachment;

mod _instance_network_interface_specification;

mod _instance_network_performance_options;

mod _instance_network_performance_options_request;

mod _instance_private_ip_address;

mod _instance_reboot_migration_state;

mod _instance_requirements;

mod _instance_requirements_request;

mod _instance_secondary_interface;

mod _instance_secondary_interface_attachment;

mod _instance_secondary_interface_private_ip_address;

mod _instance_secondary_interface_private_ip_address_request;

mod _instance_secondary_interface_specification_request;

mod _instance_state;

mod _instance_state_change;

mod _instance_state_name;

mod _instance_status;

mod _instance_status_details;

mod _instance_status_event;

mod _instance_status_summary;

mod _instance_type;

mod _instance_type_item;

mod _instance_type_offering;

mod _instance_type_specification;

mod _internet_gateway;

mod _internet_gateway_attachment;

mod _ip_permission;

mod _ip_range;

mod _ip_source;

mod _ipv4_prefix_specification;

mod _ipv4_prefix_specification_request;

mod _ipv4_prefix_specification_response;

mod _ipv6_address_attribute;

mod _ipv6_prefix_specification;

mod _ipv6_prefix_specification_request;

mod _ipv6_prefix_specification_response;

mod _ipv6_range;

mod _key_pair_info;

mod _key_type;

mod _launch_template;

mod _launch_template_auto_recovery_state;

mod _launch_template_block_device_mapping;

mod _launch_template_block_device_mapping_request;

mod _launch_template_capacity_reservation_specification_request;

mod _launch_template_capacity_reservation_specification_response;

mod _launch_template_cpu_options;

mod _launch_template_cpu_options_request;

mod _launch_template_ebs_block_device;

mod _launch_template_ebs_block_device_request;

mod _launch_template_elastic_inference_accelerator;

mod _launch_template_elastic_inference_accelerator_response;

mod _launch_template_ena_srd_specification;

mod _launch_template_ena_srd_udp_specification;

mod _launch_template_enclave_options;

mod _launch_template_enclave_options_request;

mod _launch_template_hibernation_options;

mod _launch_template_hibernation_options_request;

mod _launch_template_http_tokens_state;

mod _launch_template_iam_instance_profile_specification;

mod _launch_template_iam_instance_profile_specification_request;

mod _launch_template_instance_maintenance_options;

mod _launch_template_instance_maintenance_options_request;

mod _launch_template_instance_market_options;

mod _launch_template_instance_market_options_request;

mod _launch_template_instance_metadata_endpoint_state;

mod _launch_template_instance_metadata_options;

mod _launch_template_instance_metadata_options_request;

mod _launch_template_instance_metadata_options_state;

mod _launch_template_instance_metadata_protocol_ipv6;

mod _launch_template_instance_metadata_tags_state;

mod _launch_template_instance_network_interface_specification;

mod _launch_template_instance_network_interface_specification_request;

mod _launch_template_instance_secondary_interface_specification;

mod _launch_template_instance_secondary_interface_specification_request;

mod _launch_template_license_configuration;

mod _launch_template_license_configuration_request;

mod _launch_template_network_performance_options;

mod _launch_template_network_performance_options_request;

mod _launch_template_placement;

mod _launch_template_placement_request;

mod _launch_template_private_dns_name_options;

mod _launch_template_private_dns_name_options_request;

mod _launch_template_specification;

mod _launch_template_spot_market_options;

mod _launch_template_spot_market_options_request;

mod _launch_template_tag_specification;

mod _launch_template_tag_specification_request;

mod _launch_template_version;

mod _launch_templates_monitoring;

mod _launch_templates_monitoring_request;

mod _license_configuration;

mod _license_configuration_request;

mod _local_storage;

mod _local_storage_type;

mod _location_type;

mod _managed_prefix_list;

mod _market_type;

mod _memory_gib_per_v_cpu;

mod _memory_gib_per_v_cpu_request;

mod _memory_mib;

mod _memory_mib_request;

mod _monitoring;

mod _monitoring_state;

mod _nested_virtualization_specification;

mod _network_bandwidth_gbps;

mod _network_bandwidth_gbps_request;

mod _network_interface;

mod _network_interface_association;

mod _network_interface_attachment;

mod _network_interface_count;

mod _network_interface_count_request;

mod _network_interface_ipv6_address;

mod _network_interface_private_ip_address;

mod _network_interface_status;

mod _network_interface_type;

mod _operator_request;

mod _operator_response;

mod _performance_factor_reference;

mod _performance_factor_reference_request;

mod _performance_status_summary;

mod _placement;

mod _platform_values;

mod _prefix_list_id;

mod _prefix_list_state;

mod _private_dns_name_options_on_launch;

mod _private_dns_name_options_request;

mod _private_dns_name_options_response;

mod _private_ip_address_specification;

mod _product_code;

mod _product_code_values;

mod _propagating_vgw;

mod _public_ip_dns_name_options;

mod _referenced_security_group;

mod _region;

mod _region_geography;

mod _request_launch_template_data;

mod _reservation;

mod _resource_type;

mod _response_launch_template_data;

mod _revoked_security_group_rule;

mod _route;

mod _route_origin;

mod _route_state;

mod _route_table;

mod _route_table_association;

mod _route_table_association_state;

mod _route_table_association_state_code;

mod _run_instances_monitoring_enabled;

mod _scan_results;

mod _secondary_interface_private_ip_address_specification;

mod _secondary_interface_private_ip_address_specification_request;

mod _secondary_interface_status;

mod _secondary_interface_type;

mod _security_group;

mod _security_group_rule;

mod _severity_label;

mod _shutdown_behavior;

mod _spot_instance_type;

mod _spot_market_options;

mod _sse_type;

mod _state_reason;

mod _status_name;

mod _status_type;

mod _subnet;

mod _subnet_cidr_block_state;

mod _subnet_cidr_block_state_code;

mod _subnet_ipv6_cidr_block_association;

mod _subnet_state;

mod _summary_status;

mod _tag;

mod _tag_description;

mod _tag_specification;

mod _tenancy;

mod _total_local_storage_gb;

mod _total_local_storage_gb_request;

mod _tpm_support_values;

mod _user_id_group_pair;

mod _v_cpu_count_range;

mod _v_cpu_count_range_request;

mod _validation_error;

mod _validation_warning;

mod _virtualization_type;

mod _volume;

mod _volume_attachment;

mod _volume_attachment_state;

mod _volume_state;

mod _volume_type;

mod _vpc;

mod _vpc_cidr_block_association;

mod _vpc_cidr_block_state;

mod _vpc_cidr_block_state_code;

mod _vpc_encryption_control;

mod _vpc_encryption_control_configuration;

mod _vpc_encryption_control_exclusion;

mod _vpc_encryption_control_exclusion_state;

mod _vpc_encryption_control_exclusion_state_input;

mod _vpc_encryption_control_exclusions;

mod _vpc_encryption_control_mode;

mod _vpc_encryption_control_state;

mod _vpc_ipv6_cidr_block_association;

mod _vpc_state;

/// Builders
pub mod builders;
