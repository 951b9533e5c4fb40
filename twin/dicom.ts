// A tiny DICOM Part 10 writer: one small Secondary Capture image per call, explicit VR little endian.
// Enough for storescu to send and Orthanc to index; dcmdump reads it back in tests/twin.spec.ts.
import { randomUUID } from "crypto";

export const SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7";
export const EXPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2.1";
const IMPLEMENTATION_CLASS_UID = "2.25.198220227441476014813307766224476312451";

/** A UID under the 2.25 root (ISO/IEC 9834-8: a UUID as one decimal number); at most 44 characters. */
export function newUid(): string {
    return `2.25.${BigInt(`0x${randomUUID().replace(/-/g, "")}`).toString(10)}`;
}

type Vr = "UI" | "CS" | "DA" | "PN" | "LO" | "IS" | "US" | "UL" | "SH" | "OB";
const LONG_VRS = new Set<Vr>(["OB"]);

function element(group: number, elem: number, vr: Vr, value: Buffer): Buffer {
    const padded = value.length % 2 === 0 ? value : Buffer.concat([value, Buffer.from([vr === "UI" || vr === "OB" ? 0 : 0x20])]);
    const header = Buffer.alloc(LONG_VRS.has(vr) ? 12 : 8);
    header.writeUInt16LE(group, 0);
    header.writeUInt16LE(elem, 2);
    header.write(vr, 4, "ascii");
    if (LONG_VRS.has(vr)) header.writeUInt32LE(padded.length, 8);
    else header.writeUInt16LE(padded.length, 6);
    return Buffer.concat([header, padded]);
}

const text = (s: string) => Buffer.from(s, "ascii");
const us = (n: number) => {
    const b = Buffer.alloc(2);
    b.writeUInt16LE(n);
    return b;
};
const ul = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    return b;
};

export interface InstanceIds {
    readonly patientId: string;
    readonly studyUid: string;
    readonly seriesUid: string;
    readonly sopInstanceUid: string;
    readonly instanceNumber: number;
}

/** A `side`x`side` 8-bit grey image (8x8 unless a test needs bulk) whose pixels differ per instance number. */
export function secondaryCapture(ids: InstanceIds, studyDate = "20250101", side = 8): Buffer {
    const rows = side;
    const columns = side;
    const pixels = Buffer.alloc(rows * columns, ids.instanceNumber % 256);
    // Elements in ascending tag order, as Part 5 requires.
    const dataset = Buffer.concat([
        element(0x0008, 0x0016, "UI", text(SECONDARY_CAPTURE)),
        element(0x0008, 0x0018, "UI", text(ids.sopInstanceUid)),
        element(0x0008, 0x0020, "DA", text(studyDate)),
        element(0x0008, 0x0060, "CS", text("OT")),
        element(0x0008, 0x0064, "CS", text("WSD")),
        element(0x0010, 0x0010, "PN", text("Twin^Test")),
        element(0x0010, 0x0020, "LO", text(ids.patientId)),
        element(0x0020, 0x000d, "UI", text(ids.studyUid)),
        element(0x0020, 0x000e, "UI", text(ids.seriesUid)),
        element(0x0020, 0x0013, "IS", text(String(ids.instanceNumber))),
        element(0x0028, 0x0002, "US", us(1)),
        element(0x0028, 0x0004, "CS", text("MONOCHROME2")),
        element(0x0028, 0x0010, "US", us(rows)),
        element(0x0028, 0x0011, "US", us(columns)),
        element(0x0028, 0x0100, "US", us(8)),
        element(0x0028, 0x0101, "US", us(8)),
        element(0x0028, 0x0102, "US", us(7)),
        element(0x0028, 0x0103, "US", us(0)),
        element(0x7fe0, 0x0010, "OB", pixels),
    ]);
    const metaBody = Buffer.concat([
        element(0x0002, 0x0001, "OB", Buffer.from([0x00, 0x01])),
        element(0x0002, 0x0002, "UI", text(SECONDARY_CAPTURE)),
        element(0x0002, 0x0003, "UI", text(ids.sopInstanceUid)),
        element(0x0002, 0x0010, "UI", text(EXPLICIT_VR_LITTLE_ENDIAN)),
        element(0x0002, 0x0012, "UI", text(IMPLEMENTATION_CLASS_UID)),
        element(0x0002, 0x0013, "SH", text("ORTHWEB_TWIN")),
    ]);
    const meta = Buffer.concat([element(0x0002, 0x0000, "UL", ul(metaBody.length)), metaBody]);
    return Buffer.concat([Buffer.alloc(128), text("DICM"), meta, dataset]);
}

/**
 * The fixed part of an A-ASSOCIATE-RQ (PS3.8 9.3.2) declaring `length` bytes after its 6-byte header, without its
 * variable items: enough for nginx's sender gate, which reads the calling AE title, to judge it.
 */
export function associateRqHead(calledAet: string, callingAet: string, length = 68): Buffer {
    const pdu = Buffer.alloc(6 + 68, 0);
    pdu[0] = 0x01;
    pdu.writeUInt32BE(length, 2);
    pdu.writeUInt16BE(1, 6);
    pdu.write(calledAet.padEnd(16, " "), 10, "latin1");
    pdu.write(callingAet.padEnd(16, " "), 26, "latin1");
    return pdu;
}

const item = (type: number, body: Buffer): Buffer => {
    const head = Buffer.alloc(4);
    head[0] = type;
    head.writeUInt16BE(body.length, 2);
    return Buffer.concat([head, body]);
};

/**
 * A whole A-ASSOCIATE-RQ (PS3.8 9.3.2) proposing Verification in Implicit VR Little Endian: what echoscu sends, with
 * nothing optional. For timing associations without starting a process per association.
 */
export function verificationAssociateRq(calledAet: string, callingAet: string): Buffer {
    const items = Buffer.concat([
        item(0x10, text("1.2.840.10008.3.1.1.1")),
        item(0x20, Buffer.concat([Buffer.from([1, 0, 0, 0]), item(0x30, text("1.2.840.10008.1.1")), item(0x40, text("1.2.840.10008.1.2"))])),
        item(0x50, Buffer.concat([item(0x51, Buffer.from([0, 0, 0x40, 0])), item(0x52, text(IMPLEMENTATION_CLASS_UID))])),
    ]);
    const head = associateRqHead(calledAet, callingAet, 68 + items.length);
    return Buffer.concat([head, items]);
}

/** A-RELEASE-RQ: a requestor's orderly end of an association. */
export const RELEASE_RQ = Buffer.from([0x05, 0, 0, 0, 0, 4, 0, 0, 0, 0]);
