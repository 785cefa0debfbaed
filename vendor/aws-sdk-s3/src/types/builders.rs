// Trimmed by sitedeploy's tools/trim_sdk.py: lines naming removed operations, types or shapes were deleted.

pub use crate::types::_copy_object_result::CopyObjectResultBuilder;

pub use crate::types::_create_bucket_configuration::CreateBucketConfigurationBuilder;

pub use crate::types::_session_credentials::SessionCredentialsBuilder;

pub use crate::types::_delete::DeleteBuilder;

pub use crate::types::_owner::OwnerBuilder;

pub use crate::types::_server_side_encryption_configuration::ServerSideEncryptionConfigurationBuilder;

pub use crate::types::_public_access_block_configuration::PublicAccessBlockConfigurationBuilder;

pub use crate::types::_bucket_lifecycle_configuration::BucketLifecycleConfigurationBuilder;

pub use crate::types::_tagging::TaggingBuilder;

pub use crate::types::_location_info::LocationInfoBuilder;

pub use crate::types::_bucket_info::BucketInfoBuilder;

pub use crate::types::_deleted_object::DeletedObjectBuilder;

pub use crate::types::_error::ErrorBuilder;

pub use crate::types::_lifecycle_rule::LifecycleRuleBuilder;

pub use crate::types::_tag::TagBuilder;

pub use crate::types::_bucket::BucketBuilder;

pub use crate::types::_common_prefix::CommonPrefixBuilder;

pub use crate::types::_object::ObjectBuilder;

pub use crate::types::_records_event::RecordsEventBuilder;

pub use crate::types::_stats_event::StatsEventBuilder;

pub use crate::types::_progress_event::ProgressEventBuilder;

pub use crate::types::_continuation_event::ContinuationEventBuilder;

pub use crate::types::_end_event::EndEventBuilder;

pub use crate::types::_object_identifier::ObjectIdentifierBuilder;

pub use crate::types::_server_side_encryption_rule::ServerSideEncryptionRuleBuilder;

pub use crate::types::_lifecycle_expiration::LifecycleExpirationBuilder;

pub use crate::types::_lifecycle_rule_filter::LifecycleRuleFilterBuilder;

pub use crate::types::_noncurrent_version_expiration::NoncurrentVersionExpirationBuilder;

pub use crate::types::_abort_incomplete_multipart_upload::AbortIncompleteMultipartUploadBuilder;

pub use crate::types::_restore_status::RestoreStatusBuilder;

pub use crate::types::_stats::StatsBuilder;

pub use crate::types::_progress::ProgressBuilder;

pub use crate::types::_server_side_encryption_by_default::ServerSideEncryptionByDefaultBuilder;

pub use crate::types::_blocked_encryption_types::BlockedEncryptionTypesBuilder;

pub use crate::types::_lifecycle_rule_and_operator::LifecycleRuleAndOperatorBuilder;

pub use crate::types::_transition::TransitionBuilder;

pub use crate::types::_noncurrent_version_transition::NoncurrentVersionTransitionBuilder;
