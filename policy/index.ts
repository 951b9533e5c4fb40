// The policy pack Pulumi runs: `pulumi preview --policy-pack policy [--policy-pack-config policy/config/<stack>.json]`.
// Constructing a PolicyPack starts its gRPC server, so nothing but the Pulumi CLI imports this file;
// the rules and their tests live in rules.ts.
import { PolicyPack } from "@pulumi/policy";
import { PACK_ENFORCEMENT, PACK_NAME, policies } from "./rules";

new PolicyPack(PACK_NAME, {
    description: "Guardrails for Orthweb: two Orthanc servers on AWS and the traffic management in front of them.",
    enforcementLevel: PACK_ENFORCEMENT,
    policies,
});
