// The out-of-box pattern: each instance answers on its own public name; 443 is open to the web client
// blocks and 11112 to the DICOM client blocks, nothing else. With a zone (orthweb:traffic.direct), each instance also
// gets a name of the user's zone: an A record on its slot's Elastic IP (pacs-1.example.org).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { clientCidrIngress, createCidrIngress } from "./ingress";
import { Tags } from "./naming";

export interface DirectAccessArgs {
    /** The OrthancPair's instance security group. */
    readonly securityGroupId: pulumi.Input<string>;
    readonly webClientCidrs: readonly string[];
    readonly dicomClientCidrs: readonly string[];
    /** Each instance by name in an existing public hosted zone. @default none: the ec2-....amazonaws.com names */
    readonly names?: {
        readonly zoneName: string;
        /** Full names, in instance order: pacs-1.example.org, pacs-2.example.org. */
        readonly hostNames: readonly string[];
        /** Each instance's Elastic IP, in the same order. */
        readonly instanceIps: pulumi.Input<string>[];
    };
    readonly tags?: Tags;
}

/** The slot addresses' records: short enough that a replaced instance's name never points elsewhere for long. */
export const INSTANCE_RECORD_TTL = 300;

export class DirectAccess extends pulumi.ComponentResource {
    public readonly ruleIds: pulumi.Output<string>[];
    /** The instances' names in the user's zone (empty without one). */
    public readonly hostNames: readonly string[];

    constructor(name: string, args: DirectAccessArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("orthweb:index:DirectAccess", name, {}, opts);
        const rules = createCidrIngress(name, args.securityGroupId, clientCidrIngress(args.webClientCidrs, args.dicomClientCidrs), args.tags ?? {}, this);
        this.ruleIds = rules.map((r) => r.id);
        const names = args.names;
        this.hostNames = names ? [...names.hostNames] : [];
        if (names) {
            if (names.hostNames.length !== names.instanceIps.length) throw new Error(`DirectAccess ${name}: ${names.hostNames.length} names for ${names.instanceIps.length} instances`);
            const zone = aws.route53.getZoneOutput({ name: names.zoneName, privateZone: false }, { parent: this });
            names.instanceIps.forEach((ip, i) => {
                const recordName = `${name}-${i + 1}`;
                // The slot's Elastic IP does not change when the instance is replaced: the record stays true.
                new aws.route53.Record(recordName, { zoneId: zone.zoneId, name: names.hostNames[i], type: "A", ttl: INSTANCE_RECORD_TTL, records: [ip], allowOverwrite: false }, { parent: this });
            });
        }
        this.registerOutputs({ ruleIds: this.ruleIds, hostNames: this.hostNames });
    }
}
