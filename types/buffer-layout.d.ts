// Minimal typings for buffer-layout 1.2.2 (the package ships none). Only what lwdisk uses.
declare module 'buffer-layout' {
  export class Layout<T = any> {
    constructor(span: number, property?: string);
    span: number;
    property?: string;
    decode(b: Uint8Array, offset?: number): T;
    encode(src: T, b: Uint8Array, offset?: number): number;
    getSpan(b?: Uint8Array, offset?: number): number;
    replicate(property: string): this;
  }
  export class Structure<T = any> extends Layout<T> {
    fields: Layout[];
    offsetOf(property: string): number | undefined;
    layoutFor(property: string): Layout | undefined;
  }
  export function u8(property?: string): Layout<number>;
  export function u16(property?: string): Layout<number>;
  export function u32(property?: string): Layout<number>;
  export function u16be(property?: string): Layout<number>;
  export function u32be(property?: string): Layout<number>;
  export function blob(length: number, property?: string): Layout<Buffer>;
  export function seq<T>(elementLayout: Layout<T>, count: number, property?: string): Layout<T[]>;
  export function struct<T = any>(fields: Layout[], property?: string, decodePrefixes?: boolean): Structure<T>;
}
