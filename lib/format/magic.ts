// The Lightwhale magic header (SPEC "Names Lightwhale uses"): the 27 ASCII bytes
// `lightwhale-please-format-me` at byte 0 of a whole disk. Detection compares those 27 bytes only;
// `lwdisk mark` writes them plus `\n`, exactly what `echo ... | dd conv=notrunc` writes.

export const MAGIC_TEXT = 'lightwhale-please-format-me';
export const MAGIC = Buffer.from(MAGIC_TEXT, 'ascii');
export const MAGIC_LENGTH = MAGIC.length; // 27
/** What `mark` writes: the magic and the newline echo adds (28 bytes). */
export const MAGIC_RECORD = Buffer.from(`${MAGIC_TEXT}\n`, 'ascii');

export function hasMagic(head: Uint8Array): boolean {
  if (head.length < MAGIC_LENGTH) return false;
  return Buffer.from(head.buffer, head.byteOffset, MAGIC_LENGTH).equals(MAGIC);
}

/** The bytes `unmark` writes over the record: zeros, as the MBR boot-code area had before. */
export const UNMARK_RECORD = Buffer.alloc(MAGIC_RECORD.length);
