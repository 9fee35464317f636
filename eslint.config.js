// ESLint flat config. The one rule that matters most here: the pure cores never reach the world
// directly (wall clock, timers, randomness); they take an injected Clock and Random (see src/env).
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

const forbiddenInCores = [
  { object: 'Date', property: 'now', message: 'Cores take time from the injected Clock (src/env).' },
  { object: 'Math', property: 'random', message: 'Cores take randomness from the injected Random (src/env).' },
  { object: 'performance', property: 'now', message: 'Cores take time from the injected Clock (src/env).' },
  { object: 'process', property: 'hrtime', message: 'Cores take time from the injected Clock (src/env).' },
  { object: 'crypto', property: 'randomBytes', message: 'Cores take randomness from the injected Random (src/env).' }
]
const forbiddenGlobalsInCores = ['setTimeout', 'setInterval', 'setImmediate', 'clearTimeout', 'clearInterval'].map((name) => ({
  name,
  message: 'Cores set timers through the injected Clock (src/env), or return them as effects.'
}))

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        console: 'readonly', process: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly',
        setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly', performance: 'readonly',
        TextEncoder: 'readonly', TextDecoder: 'readonly', URL: 'readonly', globalThis: 'readonly', queueMicrotask: 'readonly'
      }
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off'
    }
  },
  {
    files: ['src/storage/**', 'src/ring/**', 'src/wire/**', 'src/membership/**', 'src/replication/**'],
    rules: {
      'no-restricted-properties': ['error', ...forbiddenInCores],
      'no-restricted-globals': ['error', ...forbiddenGlobalsInCores],
      'no-restricted-syntax': ['error', { selector: "NewExpression[callee.name='Date']", message: 'Cores take time from the injected Clock (src/env).' }]
    }
  }
)
