import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['./src/polyfill.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000
  }
})
