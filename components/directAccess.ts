// The out-of-box pattern: each instance answers on its own public name; 443 is open to the web client
// blocks and 11112 to the DICOM client blocks, nothing else.
import * as pulumi from "@pulumi/pulumi";
import { clientCidrIngress, createCidrIngress } from "./ingress";
import { Tags } from "./naming";

export interface DirectAccessArgs {
    /** The OrthancPair's instance security group. */
    readonly securityGroupId: pulumi.Input<string>;
    readonly webClientCidrs: readonly string[];
    readonly dicomClientCidrs: readonly string[];
    readonly tags?: Tags;
}

export class DirectAccess extends pulumi.ComponentResource {
    public readonly ruleIds: pulumi.Output<string>[];

    constructor(name: string, args: DirectAccessArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("orthweb:index:DirectAccess", name, {}, opts);
        const rules = createCidrIngress(name, args.securityGroupId, clientCidrIngress(args.webClientCidrs, args.dicomClientCidrs), args.tags ?? {}, this);
        this.ruleIds = rules.map((r) => r.id);
        this.registerOutputs({ ruleIds: this.ruleIds });
    }
}
