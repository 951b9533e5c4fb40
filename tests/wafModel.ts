// A small model of how AWS WAF evaluates a web ACL, enough to ask the rendered rules what they do with a request:
// managed rule groups (the request says which of their rules match), count overrides adding the rule's label,
// own rules with and/or/not, label and byte matches with URL_DECODE and NORMALIZE_PATH transformations, own
// rules that count and add their labels in the web ACL's namespace.
import * as path from "path";
import { BODY_RULES, CORE_RULE_SET_LABELS, WafRule, WafStatement } from "../rules/loadBalancerLayout";

export interface WafRequest {
    readonly method: string;
    readonly path: string;
    /** The managed rules (by name) whose inspection matches this request. */
    readonly matches: readonly string[];
}

function transform(value: string, transformations: readonly { priority: number; type: string }[]): string {
    return [...transformations]
        .sort((a, b) => a.priority - b.priority)
        .reduce((v, t) => {
            switch (t.type) {
                case "NONE":
                    return v;
                case "URL_DECODE":
                    return decodeURIComponent(v);
                case "NORMALIZE_PATH":
                    return path.posix.normalize(v);
                default:
                    throw new Error(`transformation ${t.type} is not modelled`);
            }
        }, value);
}

/** The prefix WAF gives labels the web ACL's own rules add: awswaf:<account>:webacl:<web ACL name>:. */
export const ACL_LABEL_CONTEXT = "awswaf:111122223333:webacl:lb-waf:";

/** A key not fully qualified (no awswaf: prefix) is looked for among labels added in the web ACL's own context. */
function qualified(key: string): string {
    return key.startsWith("awswaf:") ? key : `${ACL_LABEL_CONTEXT}${key}`;
}

function holds(statement: WafStatement, request: WafRequest, labels: Set<string>): boolean {
    if (statement.andStatement) return statement.andStatement.statements.every((s) => holds(s, request, labels));
    if (statement.orStatement) return statement.orStatement.statements.some((s) => holds(s, request, labels));
    if (statement.notStatement) return !holds(statement.notStatement.statement, request, labels);
    if (statement.labelMatchStatement) return labels.has(qualified(statement.labelMatchStatement.key));
    const byte = statement.byteMatchStatement;
    if (byte) {
        const raw = byte.fieldToMatch.method ? request.method : request.path;
        const value = transform(raw, byte.textTransformations);
        return byte.positionalConstraint === "EXACTLY" ? value === byte.searchString : value.startsWith(byte.searchString);
    }
    throw new Error(`statement ${JSON.stringify(statement)} is not modelled`);
}

/** "allow" (the default action), or "block by <rule>" for the rule that ended the evaluation. */
export function evaluateAcl(rules: readonly WafRule[], request: WafRequest): string {
    const labels = new Set<string>();
    for (const rule of [...rules].sort((a, b) => a.priority - b.priority)) {
        const group = rule.statement.managedRuleGroupStatement;
        if (group) {
            // The request's matches are core rule set rules; the other groups match nothing here.
            if (group.name !== "AWSManagedRulesCommonRuleSet") continue;
            const counted = new Set(group.ruleActionOverrides.map((o) => o.name));
            for (const match of request.matches) {
                labels.add(`${CORE_RULE_SET_LABELS}${BODY_RULES[match] ?? match}`);
                if (!counted.has(match)) return `block by ${rule.name}`;
            }
        } else if (holds(rule.statement, request, labels)) {
            for (const label of rule.ruleLabels ?? []) labels.add(`${ACL_LABEL_CONTEXT}${label.name}`);
            if (rule.action && "block" in rule.action) return `block by ${rule.name}`;
        }
    }
    return "allow";
}
