// crc-32 ships types only for its main entry; crc32c.js has the same API (CRC-32C, Castagnoli).
declare module 'crc-32/crc32c.js' {
  export function buf(data: number[] | Uint8Array, seed?: number): number;
  export function bstr(data: string, seed?: number): number;
  export function str(data: string, seed?: number): number;
}
