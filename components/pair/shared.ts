// Small helpers the pair's building blocks share.
import * as pulumi from "@pulumi/pulumi";
import { Tags } from "../naming";

/** What every building block of the pair takes: the pair's name, its tags, and the pair as parent. */
export interface PairContext {
    readonly name: string;
    readonly tags: Tags;
    readonly parent: pulumi.Resource;
    readonly prod: boolean;
    readonly region: string;
}

export function at<T>(list: T[] | undefined, index: number): T {
    // Under mocks a remote component's outputs can be missing; keep the program total.
    return (list ?? [])[index] as T;
}

/** AWS always returns these; bare test mocks may not. Render what is known rather than fail. */
export function text(value: string | undefined): string {
    return value ?? "";
}

export function defined<T>(values: (T | undefined)[]): T[] {
    return values.filter((v): v is T => v !== undefined && v !== null && v !== "");
}
