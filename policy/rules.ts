// The guardrails of a medical-imaging deployment, as CrossGuard policies, grouped by concern as Pulumi's AWSGuard
// pack groups its rules: compute, database, network, security, storage (one module each). This module only assembles
// them; policy/index.ts hands them to `new PolicyPack(...)`, which starts a gRPC server and must never be imported by
// tests. Resource rules read a resource's inputs; stack rules read every resource's outputs and relate them (which
// security group the instances use, which CA signed a certificate).
import { Validation } from "./common";
import { ebsEncrypted, ebsKeyUsableByAutoScaling, healingNeverChurns, imdsv2Required } from "./compute";
import { deletionProtectionInProd, rdsNotPublic, rdsStorageEncrypted } from "./database";
import {
    adminPortsOnlyFromVpc,
    albHttpRedirectsOnly,
    clientVpnConnectionLogging,
    clientVpnSplitTunnel,
    endpointPoliciesPresent,
    instanceIngressNotOpenToInternet,
    listenerTlsPolicy,
    nlbSecurityGroups,
    noInternetEndpointCoverage,
    siteToSiteOnlyServicePorts,
    siteToSiteStrongTunnels,
    wafWebAclLimits,
} from "./network";
import { caOutlivesLeaves, credentialsOnlyInSecrets, loadBalancerAccessLogs, studyObjectAccessRecorded, vpcFlowLogs, wafLogging } from "./security";
import { s3DefaultEncryption, s3PublicAccessBlocked, s3TlsOnly } from "./storage";

export * from "./common";
export * from "./compute";
export * from "./database";
export * from "./network";
export * from "./security";
export * from "./storage";

/** The whole pack, in the order the docs list it. */
export const policies: Validation[] = [
    instanceIngressNotOpenToInternet,
    adminPortsOnlyFromVpc,
    imdsv2Required,
    ebsEncrypted,
    rdsStorageEncrypted,
    rdsNotPublic,
    ebsKeyUsableByAutoScaling,
    s3DefaultEncryption,
    s3PublicAccessBlocked,
    s3TlsOnly,
    listenerTlsPolicy,
    albHttpRedirectsOnly,
    nlbSecurityGroups,
    healingNeverChurns,
    clientVpnSplitTunnel,
    clientVpnConnectionLogging,
    siteToSiteStrongTunnels,
    siteToSiteOnlyServicePorts,
    caOutlivesLeaves,
    credentialsOnlyInSecrets,
    studyObjectAccessRecorded,
    vpcFlowLogs,
    noInternetEndpointCoverage,
    endpointPoliciesPresent,
    loadBalancerAccessLogs,
    wafLogging,
    wafWebAclLimits,
    deletionProtectionInProd,
];
