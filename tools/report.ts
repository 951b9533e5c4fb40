// Pure functions that turn a mocked run (registrations + resolved outputs) into the plan report.
import { Registration } from "./mockRuntime";

export interface ResourceRow {
    readonly component: string;
    readonly type: string;
    readonly name: string;
}

export interface ComponentGroup {
    readonly component: string;
    readonly componentType: string;
    readonly resources: ResourceRow[];
    /** type -> count */
    readonly counts: Record<string, number>;
}

/** Assigns each custom resource to the component whose name is the longest `<component>-` prefix of its own. */
export function groupByComponent(registrations: readonly Registration[]): ComponentGroup[] {
    const components = registrations.filter((r) => !r.custom && r.type.startsWith("orthweb:"));
    const groups = new Map<string, ComponentGroup>(
        components.map((c) => [c.name, { component: c.name, componentType: c.type, resources: [], counts: {} }]),
    );
    const ungrouped: ComponentGroup = { component: "(stack)", componentType: "", resources: [], counts: {} };
    const byLength = [...components].sort((a, b) => b.name.length - a.name.length);
    for (const r of registrations) {
        if (r.type.startsWith("orthweb:") || r.type === "pulumi:pulumi:Stack") continue;
        const owner = byLength.find((c) => r.name === c.name || r.name.startsWith(`${c.name}-`));
        const group = owner ? groups.get(owner.name)! : ungrouped;
        group.resources.push({ component: group.component, type: r.type, name: r.name });
        group.counts[r.type] = (group.counts[r.type] ?? 0) + 1;
    }
    const all = [...groups.values()];
    if (ungrouped.resources.length > 0) all.push(ungrouped);
    return all;
}

/** Right-pads cells into aligned columns. */
export function table(rows: string[][], indent = "  "): string {
    const widths = rows.reduce<number[]>((w, row) => row.map((cell, i) => Math.max(w[i] ?? 0, cell.length)), []);
    return rows.map((row) => indent + row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]))).join("  ")).join("\n");
}

/** A short type name for humans: aws:ec2/securityGroup:SecurityGroup -> aws:ec2:SecurityGroup. */
export function shortType(type: string): string {
    const m = /^([^:]+):([^/:]+)\/[^:]+:(.+)$/.exec(type);
    return m ? `${m[1]}:${m[2]}:${m[3]}` : type;
}
