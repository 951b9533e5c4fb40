// ModalityCertificates: one client certificate per DICOM modality, signed by a CA of their own that outlives its
// leaves (the client VPN's plan and issuing, rules/certificates.ts and certificateIssuer.ts). nginx on the instances
// trusts this CA on 11112; each modality is given its certificate, key and the CA (a secret stack output).
import * as pulumi from "@pulumi/pulumi";
import { modalityCertificatePlan } from "../rules/modalities";
import { issueCertificateAuthority, issueLeafCertificate } from "./certificateIssuer";

export interface ModalityCertificateBundle {
    readonly certificate: string;
    readonly key: string;
    readonly ca: string;
}

export interface ModalityCertificatesArgs {
    /** One certificate per name (CN `<name>.modalities.orthweb.internal`). */
    readonly names: readonly string[];
}

export class ModalityCertificates extends pulumi.ComponentResource {
    /** The CA's certificate: what nginx checks client certificates against. */
    public readonly caPem: pulumi.Output<string>;
    /** Modality name -> its certificate, key and CA in PEM. A secret. */
    public readonly bundles: pulumi.Output<Record<string, ModalityCertificateBundle>>;

    constructor(name: string, args: ModalityCertificatesArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("orthweb:index:ModalityCertificates", name, {}, opts);
        const plan = modalityCertificatePlan(args.names);
        const ca = issueCertificateAuthority(name, plan.ca, this);
        const bundles: Record<string, pulumi.Output<ModalityCertificateBundle>> = {};
        for (const spec of plan.clients) {
            const leaf = issueLeafCertificate(name, spec, ca, this);
            bundles[spec.client] = pulumi.all([leaf.certPem, leaf.keyPem, ca.certPem]).apply(([certificate, key, caPem]) => ({ certificate, key, ca: caPem }));
        }
        this.caPem = ca.certPem;
        this.bundles = pulumi.secret(pulumi.all(bundles));
        this.registerOutputs({ caPem: this.caPem });
    }
}
