// Reading a stack as a graph for the stack-level rules: which resource a property points at, whether a
// value is known yet. During `pulumi preview` the ids of resources to be created are unknown and reading
// one throws; the engine's property dependencies still say who points at whom, so both are used.
import { PolicyResource, UnknownValueError } from "@pulumi/policy";

/** The value `read` returns, or undefined when the engine does not know it yet (preview). */
export function known<T>(read: () => T): T | undefined {
    try {
        return read();
    } catch (e) {
        if (e instanceof UnknownValueError) return undefined;
        throw e;
    }
}

/** Whether `key` is set on `obj`, without reading the value (which may be unknown during preview). */
export function has(obj: unknown, key: string): boolean {
    return typeof obj === "object" && obj !== null && Object.prototype.hasOwnProperty.call(obj, key);
}

/** The known elements of a list (a single value counts as a list of one; nothing as none). */
export function items(value: unknown): unknown[] {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) return [value];
    const out: unknown[] = [];
    for (let i = 0; i < value.length; i++) {
        const item = known(() => value[i] as unknown);
        if (item !== undefined) out.push(item);
    }
    return out;
}

/** The known strings in a value that is a string or a list of strings. */
export function strings(value: unknown): string[] {
    return items(value).filter((v): v is string => typeof v === "string");
}

/** What other resources use to point at `r`: its id, ARN or bucket name, where known. */
export function handlesOf(r: PolicyResource): string[] {
    return ["id", "arn", "bucket"].flatMap((key) => strings(known(() => r.props[key])));
}

/**
 * The `candidates` that `from.props[property]` points at: by the engine's property dependencies
 * (works during preview), or by matching known values against each candidate's handles.
 */
export function references(
    from: PolicyResource,
    property: string,
    candidates: readonly PolicyResource[],
    options: { values?: string[]; handles?: (r: PolicyResource) => string[] } = {},
): PolicyResource[] {
    const dependencies = from.propertyDependencies?.[property] ?? [];
    const values = options.values ?? strings(known(() => from.props[property]));
    const handles = options.handles ?? handlesOf;
    return candidates.filter(
        (c) => c !== from && (dependencies.some((d) => d.urn === c.urn) || handles(c).some((h) => values.includes(h))),
    );
}

/**
 * Component resources (ours, `orthweb:index:OrthancPair`, and awsx's) have no `/` in their type token;
 * provider resources always do (`aws:ec2/instance:Instance`). Components only repackage their children.
 */
export function isProviderResource(type: string): boolean {
    return !type.startsWith("pulumi:") && /^[^:]+:[^:]*\/[^:]*:[^:]+$/.test(type);
}

/** The resource's `Environment` tag, when it has one. */
export function environmentTag(props: Record<string, unknown>): string | undefined {
    const tags = known(() => props.tags) as Record<string, unknown> | undefined;
    const value = tags && known(() => tags.Environment);
    return typeof value === "string" ? value : undefined;
}
