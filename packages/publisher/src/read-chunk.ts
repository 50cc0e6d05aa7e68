/**
 * The size of each read of a tarball, and the most that one stream stage of
 * the unpack (decoder output, header guard) holds before it stops reading.
 *
 * 256 KiB, not 1 MiB: glibc raises its mmap threshold once the first 1 MiB
 * read buffer is freed, and from then on keeps freed buffers in its heap.
 * `xs-rsync unpack` of the 34,801-entry real-files build peaked at 109-115
 * MiB with 1 MiB reads (4 runs) and at 81-99 MiB with 256 KiB (4 runs)
 * (docs/performance.md, "Where the remaining RSS is").
 */
export const READ_CHUNK = 256 * 1024
