// The web ACL limits as the AWS provider's schema and WAF apply them (policy/wafLimits.ts), on hand-written rules.
import { expect } from "chai";
import { MANAGED_RULE_GROUP_WCU, statementLevels, statementWcu, WEB_ACL_MAX_WCU, WEB_ACL_STATEMENT_LEVELS, webAclCapacity, webAclProblems } from "../policy/wafLimits";

const label = (key: string) => ({ labelMatchStatement: { scope: "LABEL", key } });
const method = (m: string) => ({ byteMatchStatement: { fieldToMatch: { method: {} }, positionalConstraint: "EXACTLY", searchString: m, textTransformations: [{ priority: 0, type: "NONE" }] } });
const path = (p: string) => ({
    byteMatchStatement: {
        fieldToMatch: { uriPath: {} },
        positionalConstraint: "STARTS_WITH",
        searchString: p,
        textTransformations: [
            { priority: 0, type: "URL_DECODE" },
            { priority: 1, type: "NORMALIZE_PATH" },
        ],
    },
});
const and = (...statements: object[]) => ({ andStatement: { statements } });
const or = (...statements: object[]) => ({ orStatement: { statements } });
const not = (statement: object) => ({ notStatement: { statement } });
const rule = (name: string, statement: object) => ({ name, priority: 0, action: { block: {} }, statement });
const managed = (name: string, scopeDownStatement?: object) => ({ managedRuleGroupStatement: { vendorName: "AWS", name, ...(scopeDownStatement ? { scopeDownStatement } : {}) } });

describe("WAF web ACL limits (terraform-provider-aws wafv2 schema, AWS WCU costs)", () => {
    it("takes the provider's webACLRootStatementSchemaLevel, 3, and AWS's 5000 WCU", () => {
        expect(WEB_ACL_STATEMENT_LEVELS).to.equal(3);
        expect(WEB_ACL_MAX_WCU).to.equal(5000);
    });

    it("refuses the body rule as main (82343a8) wrote it: and > not > and > or is four levels", () => {
        const upload = and(method("POST"), or(path("/dicom-web/"), path("/instances")));
        const old = rule("CommonRuleSetBodyOutsideDicomUploads", and(or(label("a:b"), label("a:c")), not(upload)));
        expect(statementLevels(old.statement)).to.deep.equal({ levels: 4, path: ["and", "not", "and", "or"] });
        expect(webAclProblems([old])).to.deep.equal([
            'rule "CommonRuleSetBodyOutsideDicomUploads" nests its statements 4 levels deep (and > not > and > or); the AWS provider accepts 3 (webACLRootStatementSchemaLevel): split it into rules joined by labels',
        ]);
    });

    it("counts and/or/not only: match statements nested three logical levels down are accepted", () => {
        const deepest = and(or(not(label("x")), label("y")), label("z"));
        expect(statementLevels(deepest).levels).to.equal(3);
        expect(webAclProblems([rule("r", deepest)])).to.deep.equal([]);
        expect(statementLevels(label("x")).levels).to.equal(0);
    });

    it("gives a managed rule group's scope-down statement one level less (scopeDownStatementSchema(level - 1))", () => {
        expect(webAclProblems([{ name: "g", priority: 0, overrideAction: { none: {} }, statement: managed("AWSManagedRulesCommonRuleSet", and(not(label("x")), label("y"))) }])).to.deep.equal([]);
        const tooDeep = webAclProblems([{ name: "g", priority: 0, overrideAction: { none: {} }, statement: managed("AWSManagedRulesCommonRuleSet", and(or(not(label("x")), label("y")), label("z"))) }]);
        expect(tooDeep).to.have.length(1);
        expect(tooDeep[0]).to.include("4 levels deep (managedRuleGroup > and > or > not)");
    });

    it("refuses what WAF refuses in the shape: an and/or of one statement, a managed group below the top, two kinds in one block", () => {
        expect(webAclProblems([rule("one", or(label("x")))])).to.deep.equal(['rule "one" is an orStatement with 1 statement(s); AWS requires at least two']);
        expect(webAclProblems([rule("nested", and(managed("AWSManagedRulesCommonRuleSet"), label("x")))])).to.deep.equal([
            'rule "nested" > andStatement[0] nests a managedRuleGroupStatement, which may only be a rule\'s top statement',
        ]);
        expect(webAclProblems([rule("two", { ...label("x"), ...method("GET") })])[0]).to.equal('rule "two" sets labelMatchStatement and byteMatchStatement; a statement block takes exactly one');
    });

    it("prices statements as AWS documents them: base by match type, +10 per transformation other than NONE, groups at their declared capacity", () => {
        expect(statementWcu(method("POST")).wcu).to.equal(2);
        expect(statementWcu(path("/x")).wcu).to.equal(22);
        expect(statementWcu({ byteMatchStatement: { fieldToMatch: { allQueryArguments: {} }, positionalConstraint: "CONTAINS", searchString: "x", textTransformations: [{ priority: 0, type: "NONE" }] } }).wcu).to.equal(20);
        expect(statementWcu(and(label("x"), not(label("y")))).wcu).to.equal(2);
        const body = { fieldToMatch: { body: {} }, textTransformations: [{ priority: 0, type: "URL_DECODE" }] };
        expect(statementWcu({ sqliMatchStatement: { ...body, sensitivityLevel: "HIGH" } }).wcu).to.equal(40);
        expect(statementWcu({ xssMatchStatement: { ...body, fieldToMatch: { jsonBody: {} } } }).wcu).to.equal(90);
        expect(statementWcu(managed("AWSManagedRulesKnownBadInputsRuleSet", method("GET"))).wcu).to.equal(202);
        expect(MANAGED_RULE_GROUP_WCU["AWS:AWSManagedRulesCommonRuleSet"]).to.equal(700);
    });

    it("reports a web ACL over 5000 WCUs, and what it cannot price rather than guessing", () => {
        const many = Array.from({ length: 8 }, (_, i) => ({ name: `crs${i}`, priority: i, overrideAction: { none: {} }, statement: managed("AWSManagedRulesCommonRuleSet") }));
        expect(webAclCapacity(many).wcu).to.equal(5600);
        expect(webAclProblems(many)).to.deep.equal(["the rules need 5600 WCUs; a web ACL holds at most 5000"]);
        expect(webAclProblems([{ name: "bot", priority: 0, overrideAction: { none: {} }, statement: managed("AWSManagedRulesBotControlRuleSet") }])).to.deep.equal([
            "cannot price managed rule group AWS:AWSManagedRulesBotControlRuleSet (its declared capacity is not in MANAGED_RULE_GROUP_WCU): the web ACL's capacity is unknown",
        ]);
    });
});
