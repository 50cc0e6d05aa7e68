declare module 'seek-bzip' {
  /** The byte source seek-bzip pulls from (its "stream" duck type). */
  export interface BzInput {
    readByte(): number
    read(buf: Uint8Array, off: number, len: number): number
    eof(): boolean
    seek(pos: number): void
  }
  export interface BzOutput {
    writeByte(byte: number): void
  }
  const Bunzip: {
    decode(input: BzInput | Uint8Array, output?: BzOutput | number, multistream?: boolean): Buffer | undefined
  }
  export default Bunzip
}
