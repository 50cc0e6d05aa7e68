/**
 * Whether a process with this pid exists (signal 0; EPERM means it exists
 * but belongs to someone else). Used to tell leftovers of killed jobs from
 * work in progress.
 */
export const isProcessAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (er) {
    return (er as NodeJS.ErrnoException).code === 'EPERM'
  }
}
