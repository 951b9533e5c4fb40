// What AWS accepts in a WAF web ACL's rules, as pure functions over the rules' input shape (the Pulumi
// property names of aws.wafv2.WebAcl `rules`). The program's tests and the pack's `waf-web-acl-limits` rule
// both use it; it lives in policy/ because the pack imports nothing from the program.
//
// Nesting: terraform-provider-aws internal/service/wafv2 builds the web ACL rule's `statement` schema with
// webACLRootStatementSchemaLevel = 3. At a place with n levels left, an and/or/not statement is allowed when
// n >= 1 and its nested statements get n - 1; at 0 only match statements remain (schemas.go, schemaCache).
// A managed rule group or rate-based statement may only be a rule's top statement, and its scope-down
// statement gets one level less (scopeDownStatementSchema(level - 1)). A deeper statement is not in the
// schema: `pulumi preview` fails with "Invalid or unknown key" (pulumi/pulumi-aws#4868).
// AWS: an AND or OR statement needs at least two nested statements.
//
// Capacity: AWS's documented WCU costs (developer guide, "Using match rule statements", "Web ACL capacity
// units"); each text transformation other than NONE adds 10 (AWS may share one between statements: this is
// the upper bound), logical statements cost what they nest, a managed rule group its declared capacity.

/** terraform-provider-aws internal/service/wafv2/consts.go: webACLRootStatementSchemaLevel. */
export const WEB_ACL_STATEMENT_LEVELS = 3;
/** The most WCUs a web ACL may use (AWS, since April 2023). */
export const WEB_ACL_MAX_WCU = 5000;
/** WCUs the web ACL's base price covers; each further 500 adds a per-request charge. */
export const WEB_ACL_BASE_PRICE_WCU = 1500;
/** Declared capacities of AWS managed rule groups (developer guide, "AWS Managed Rules rule groups list"). */
export const MANAGED_RULE_GROUP_WCU: Readonly<Record<string, number>> = {
    "AWS:AWSManagedRulesCommonRuleSet": 700,
    "AWS:AWSManagedRulesKnownBadInputsRuleSet": 200,
    "AWS:AWSManagedRulesAmazonIpReputationList": 25,
};

type Statement = Record<string, any>;

const LOGICAL = ["andStatement", "orStatement", "notStatement"] as const;
const TOP_ONLY = ["managedRuleGroupStatement", "rateBasedStatement", "ruleGroupReferenceStatement"] as const;

/** The statement's one key (a statement block sets exactly one type). */
function kindOf(statement: Statement): string[] {
    return Object.keys(statement ?? {}).filter((k) => statement[k] !== undefined && statement[k] !== null);
}

function nested(statement: Statement, kind: string): Statement[] {
    const body = statement[kind] ?? {};
    if (kind === "notStatement") return body.statement ? [body.statement] : [];
    if (kind === "andStatement" || kind === "orStatement") return Array.isArray(body.statements) ? body.statements : [];
    return body.scopeDownStatement ? [body.scopeDownStatement] : [];
}

/**
 * The levels a rule's top statement uses, as the provider counts them: each and/or/not, managed rule group
 * and rate-based statement on the deepest path. With the path's statement kinds, for the message.
 */
export function statementLevels(statement: Statement): { levels: number; path: string[] } {
    const [kind] = kindOf(statement);
    if (!kind || (!(LOGICAL as readonly string[]).includes(kind) && !(TOP_ONLY as readonly string[]).includes(kind))) return { levels: 0, path: [] };
    const deepest = nested(statement, kind)
        .map(statementLevels)
        .reduce((a, b) => (b.levels > a.levels ? b : a), { levels: 0, path: [] as string[] });
    return { levels: 1 + deepest.levels, path: [kind.replace(/Statement$/, ""), ...deepest.path] };
}

/** What the provider's schema or WAF refuses in one statement tree, `where` naming its place. */
function shapeProblems(statement: Statement, where: string, top: boolean): string[] {
    const kinds = kindOf(statement);
    if (kinds.length !== 1) return [`${where} sets ${kinds.length === 0 ? "no statement" : kinds.join(" and ")}; a statement block takes exactly one`];
    const [kind] = kinds;
    const problems: string[] = [];
    if ((TOP_ONLY as readonly string[]).includes(kind) && !top) problems.push(`${where} nests a ${kind}, which may only be a rule's top statement`);
    const children = nested(statement, kind);
    if ((kind === "andStatement" || kind === "orStatement") && children.length < 2) {
        problems.push(`${where} is an ${kind} with ${children.length} statement(s); AWS requires at least two`);
    }
    if (kind === "notStatement" && children.length !== 1) problems.push(`${where} is a notStatement without its one statement`);
    children.forEach((child, i) => problems.push(...shapeProblems(child, `${where} > ${kind}[${i}]`, false)));
    return problems;
}

/** Each rule whose statement the provider or WAF would refuse, one line each. */
export function webAclStatementProblems(rules: readonly Statement[]): string[] {
    return rules.flatMap((rule) => {
        const where = `rule "${rule?.name}"`;
        if (!rule?.statement) return [`${where} has no statement`];
        const { levels, path } = statementLevels(rule.statement);
        const problems = shapeProblems(rule.statement, where, true);
        if (levels > WEB_ACL_STATEMENT_LEVELS) {
            problems.push(
                `${where} nests its statements ${levels} levels deep (${path.join(" > ")}); the AWS provider accepts ${WEB_ACL_STATEMENT_LEVELS} ` +
                    `(webACLRootStatementSchemaLevel): split it into rules joined by labels`,
            );
        }
        return problems;
    });
}

function transformationWcu(s: Statement): number {
    const list: { type?: string }[] = Array.isArray(s.textTransformations) ? s.textTransformations : [];
    return 10 * list.filter((t) => t?.type !== "NONE").length;
}

/** Base cost rules of the documented field-inspecting statements: all query arguments +10, JSON body doubles the base. */
function inspectingWcu(s: Statement, base: number): number {
    const field = s.fieldToMatch ?? {};
    return (field.jsonBody ? 2 * base : base) + (field.allQueryArguments ? 10 : 0) + transformationWcu(s);
}

const BYTE_MATCH_BASE: Readonly<Record<string, number>> = { EXACTLY: 2, STARTS_WITH: 2, ENDS_WITH: 2, CONTAINS: 10, CONTAINS_WORD: 10 };

/** A statement's WCUs, or the reason it cannot be priced. */
export function statementWcu(statement: Statement): { wcu: number; unpriced: string[] } {
    const [kind] = kindOf(statement);
    const body = statement?.[kind] ?? {};
    const sum = (parts: Statement[]) =>
        parts.map(statementWcu).reduce((a, b) => ({ wcu: a.wcu + b.wcu, unpriced: [...a.unpriced, ...b.unpriced] }), { wcu: 0, unpriced: [] as string[] });
    switch (kind) {
        case "andStatement":
        case "orStatement":
        case "notStatement":
            return sum(nested(statement, kind));
        case "labelMatchStatement":
        case "geoMatchStatement":
        case "asnMatchStatement":
            return { wcu: 1, unpriced: [] };
        case "ipSetReferenceStatement":
            return { wcu: body.ipSetForwardedIpConfig?.position === "ANY" ? 5 : 1, unpriced: [] };
        case "byteMatchStatement": {
            const base = BYTE_MATCH_BASE[body.positionalConstraint];
            return base === undefined ? { wcu: 0, unpriced: [`byteMatchStatement with positionalConstraint ${body.positionalConstraint}`] } : { wcu: inspectingWcu(body, base), unpriced: [] };
        }
        case "regexMatchStatement":
            return { wcu: inspectingWcu(body, 3), unpriced: [] };
        case "regexPatternSetReferenceStatement":
            return { wcu: inspectingWcu(body, 25), unpriced: [] };
        case "sizeConstraintStatement":
            return { wcu: inspectingWcu(body, 1), unpriced: [] };
        case "sqliMatchStatement":
            return { wcu: inspectingWcu(body, body.sensitivityLevel === "HIGH" ? 30 : 20), unpriced: [] };
        case "xssMatchStatement":
            return { wcu: inspectingWcu(body, 40), unpriced: [] };
        case "managedRuleGroupStatement": {
            const group = `${body.vendorName}:${body.name}`;
            const declared = MANAGED_RULE_GROUP_WCU[group];
            const scopeDown = sum(nested(statement, kind));
            if (declared === undefined) return { wcu: scopeDown.wcu, unpriced: [`managed rule group ${group} (its declared capacity is not in MANAGED_RULE_GROUP_WCU)`, ...scopeDown.unpriced] };
            return { wcu: declared + scopeDown.wcu, unpriced: scopeDown.unpriced };
        }
        default:
            return { wcu: 0, unpriced: [`${kind ?? "an empty statement"} (not priced here)`] };
    }
}

/** The web ACL's WCUs (upper bound), and what could not be priced. */
export function webAclCapacity(rules: readonly Statement[]): { wcu: number; unpriced: string[] } {
    return rules
        .map((rule) => statementWcu(rule?.statement ?? {}))
        .reduce((a, b) => ({ wcu: a.wcu + b.wcu, unpriced: [...a.unpriced, ...b.unpriced] }), { wcu: 0, unpriced: [] as string[] });
}

/** Everything AWS would refuse in these rules: statement shape and depth, and the web ACL's capacity. */
export function webAclProblems(rules: readonly Statement[]): string[] {
    const capacity = webAclCapacity(rules);
    return [
        ...webAclStatementProblems(rules),
        ...capacity.unpriced.map((what) => `cannot price ${what}: the web ACL's capacity is unknown`),
        ...(capacity.wcu > WEB_ACL_MAX_WCU ? [`the rules need ${capacity.wcu} WCUs; a web ACL holds at most ${WEB_ACL_MAX_WCU}`] : []),
    ];
}
