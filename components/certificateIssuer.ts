// Turns a certificate plan's specs (rules/certificates.ts) into @pulumi/tls resources: a self-signed CA and leaves
// it signs. Shared by the client VPN and the DICOM modalities' client certificates. Private keys are secrets.
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { CertificateSpec, ORGANIZATION, RSA_BITS } from "../rules/certificates";

export interface IssuedCertificate {
    readonly certPem: pulumi.Output<string>;
    /** A secret. */
    readonly keyPem: pulumi.Output<string>;
}

/** The CA of a plan, named `${name}-<resourceSuffix>`. */
export function issueCertificateAuthority(name: string, spec: CertificateSpec, parent: pulumi.Resource): IssuedCertificate {
    const key = new tls.PrivateKey(`${name}-${spec.resourceSuffix}`, { algorithm: "RSA", rsaBits: RSA_BITS }, { parent });
    const cert = new tls.SelfSignedCert(
        `${name}-${spec.resourceSuffix}`,
        {
            privateKeyPem: key.privateKeyPem,
            subject: { commonName: spec.commonName, organization: ORGANIZATION },
            isCaCertificate: true,
            allowedUses: [...spec.allowedUses],
            validityPeriodHours: spec.validityHours,
            earlyRenewalHours: spec.earlyRenewalHours,
        },
        { parent },
    );
    return { certPem: cert.certPem, keyPem: pulumi.secret(key.privateKeyPem) };
}

/** A leaf of a plan signed by `ca`, named `${name}-<resourceSuffix>`. */
export function issueLeafCertificate(name: string, spec: CertificateSpec, ca: IssuedCertificate, parent: pulumi.Resource): IssuedCertificate {
    const resourceName = `${name}-${spec.resourceSuffix}`;
    const key = new tls.PrivateKey(resourceName, { algorithm: "RSA", rsaBits: RSA_BITS }, { parent });
    const request = new tls.CertRequest(
        resourceName,
        { privateKeyPem: key.privateKeyPem, subject: { commonName: spec.commonName, organization: ORGANIZATION }, dnsNames: spec.dnsNames },
        { parent },
    );
    const cert = new tls.LocallySignedCert(
        resourceName,
        {
            certRequestPem: request.certRequestPem,
            caCertPem: ca.certPem,
            caPrivateKeyPem: ca.keyPem,
            allowedUses: [...spec.allowedUses],
            validityPeriodHours: spec.validityHours,
            earlyRenewalHours: spec.earlyRenewalHours,
        },
        { parent },
    );
    return { certPem: cert.certPem, keyPem: pulumi.secret(key.privateKeyPem) };
}
