// The resource types the rules look at, as the policy SDK sees them: a type token (`__pulumiType`, which is all
// @pulumi/policy's `isType` and `validateResourceOfType` read of a resource class) and the few input properties the
// rules read. The pack does not import @pulumi/aws or @pulumi/tls: the CLI starts it with ts-node type-checking
// (`run-policy-pack` hard-codes it), and checking against @pulumi/aws's declarations took about 8 s of CPU and
// 700 MiB on every `pulumi preview --policy-pack policy`. The tokens are the providers' own (pulumi-aws v7,
// pulumi-tls v5); tests/policy.spec.ts holds them equal to the SDK classes' `__pulumiType`.
import type { Resource } from "@pulumi/pulumi";

/** What @pulumi/policy accepts as a resource class; only `__pulumiType` exists at run time. */
export interface ResourceType<Props extends object = Record<string, unknown>> {
    new (name: string, args: Props, ...rest: any[]): Resource;
    readonly __pulumiType: string;
}

function resourceType<Props extends object = Record<string, unknown>>(token: string): ResourceType<Props> {
    return Object.freeze({ __pulumiType: token }) as unknown as ResourceType<Props>;
}

interface MetadataOptions {
    httpTokens?: string;
    httpEndpoint?: string;
}

interface Listener {
    protocol?: string;
    sslPolicy?: string;
}

interface LoadBalancer {
    loadBalancerType?: string;
    securityGroups?: string[];
    enableDeletionProtection?: boolean;
}

interface Bucket {
    forceDestroy?: boolean;
}

interface WebAcl {
    rules?: Record<string, any>[];
}

interface LifecycleHook {
    lifecycleTransition?: string;
    defaultResult?: string;
    heartbeatTimeout?: number;
}

/** The AWS resource types the rules read (pulumi-aws v7 type tokens), named as in @pulumi/aws. */
export const aws = {
    autoscaling: {
        Group: resourceType<{ healthCheckType?: string; initialLifecycleHooks?: LifecycleHook[]; waitForCapacityTimeout?: string; launchTemplate?: { id?: string }; serviceLinkedRoleArn?: string }>("aws:autoscaling/group:Group"),
        LifecycleHook: resourceType<LifecycleHook>("aws:autoscaling/lifecycleHook:LifecycleHook"),
    },
    alb: {
        Listener: resourceType<Listener>("aws:alb/listener:Listener"),
        ListenerRule: resourceType("aws:alb/listenerRule:ListenerRule"),
        LoadBalancer: resourceType<LoadBalancer>("aws:alb/loadBalancer:LoadBalancer"),
    },
    cloudtrail: {
        Trail: resourceType("aws:cloudtrail/trail:Trail"),
    },
    ebs: {
        Volume: resourceType<{ encrypted?: boolean }>("aws:ebs/volume:Volume"),
    },
    ec2: {
        EgressOnlyInternetGateway: resourceType("aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway"),
        FlowLog: resourceType("aws:ec2/flowLog:FlowLog"),
        Instance: resourceType<{
            metadataOptions?: MetadataOptions;
            launchTemplate?: object;
            rootBlockDevice?: { encrypted?: boolean };
            ebsBlockDevices?: { deviceName: string; encrypted?: boolean }[];
        }>("aws:ec2/instance:Instance"),
        LaunchTemplate: resourceType<{
            metadataOptions?: MetadataOptions;
            blockDeviceMappings?: { deviceName?: string; ebs?: { encrypted?: string; kmsKeyId?: string } }[];
        }>("aws:ec2/launchTemplate:LaunchTemplate"),
        InternetGateway: resourceType("aws:ec2/internetGateway:InternetGateway"),
        InternetGatewayAttachment: resourceType("aws:ec2/internetGatewayAttachment:InternetGatewayAttachment"),
        Route: resourceType("aws:ec2/route:Route"),
        SecurityGroup: resourceType("aws:ec2/securityGroup:SecurityGroup"),
        SecurityGroupRule: resourceType("aws:ec2/securityGroupRule:SecurityGroupRule"),
        Vpc: resourceType("aws:ec2/vpc:Vpc"),
        VpcEndpoint: resourceType<{ serviceName?: string; vpcEndpointType?: string; policy?: string }>("aws:ec2/vpcEndpoint:VpcEndpoint"),
        VpcIpv4CidrBlockAssociation: resourceType("aws:ec2/vpcIpv4CidrBlockAssociation:VpcIpv4CidrBlockAssociation"),
        VpnConnection: resourceType("aws:ec2/vpnConnection:VpnConnection"),
        VpnConnectionRoute: resourceType("aws:ec2/vpnConnectionRoute:VpnConnectionRoute"),
    },
    ec2clientvpn: {
        Endpoint: resourceType<{
            splitTunnel?: boolean;
            connectionLogOptions?: { enabled?: boolean; cloudwatchLogGroup?: string };
        }>("aws:ec2clientvpn/endpoint:Endpoint"),
    },
    iam: {
        ServiceLinkedRole: resourceType<{ awsServiceName?: string; customSuffix?: string }>("aws:iam/serviceLinkedRole:ServiceLinkedRole"),
    },
    kms: {
        Key: resourceType<{ policy?: string }>("aws:kms/key:Key"),
    },
    lb: {
        Listener: resourceType<Listener>("aws:lb/listener:Listener"),
        ListenerRule: resourceType("aws:lb/listenerRule:ListenerRule"),
        LoadBalancer: resourceType<LoadBalancer>("aws:lb/loadBalancer:LoadBalancer"),
    },
    rds: {
        Cluster: resourceType<{ storageEncrypted?: boolean; deletionProtection?: boolean; skipFinalSnapshot?: boolean }>("aws:rds/cluster:Cluster"),
        ClusterInstance: resourceType<{ publiclyAccessible?: boolean }>("aws:rds/clusterInstance:ClusterInstance"),
        Instance: resourceType<{
            storageEncrypted?: boolean;
            publiclyAccessible?: boolean;
            deletionProtection?: boolean;
            skipFinalSnapshot?: boolean;
        }>("aws:rds/instance:Instance"),
    },
    s3: {
        AccountPublicAccessBlock: resourceType("aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock"),
        Bucket: resourceType<Bucket>("aws:s3/bucket:Bucket"),
        BucketLogging: resourceType("aws:s3/bucketLogging:BucketLogging"),
        BucketLoggingV2: resourceType("aws:s3/bucketLoggingV2:BucketLoggingV2"),
        BucketPolicy: resourceType("aws:s3/bucketPolicy:BucketPolicy"),
        BucketPublicAccessBlock: resourceType("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"),
        BucketServerSideEncryptionConfiguration: resourceType("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"),
        BucketServerSideEncryptionConfigurationV2: resourceType("aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"),
        BucketV2: resourceType<Bucket>("aws:s3/bucketV2:BucketV2"),
    },
    vpc: {
        SecurityGroupIngressRule: resourceType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"),
    },
    wafv2: {
        WebAcl: resourceType<WebAcl>("aws:wafv2/webAcl:WebAcl"),
        WebAclLoggingConfiguration: resourceType("aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"),
    },
} as const;

/** The TLS resource types the rules read (pulumi-tls v5 type tokens), named as in @pulumi/tls. */
export const tls = {
    LocallySignedCert: resourceType("tls:index/locallySignedCert:LocallySignedCert"),
    SelfSignedCert: resourceType("tls:index/selfSignedCert:SelfSignedCert"),
} as const;
