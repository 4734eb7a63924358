// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'cdk.out/**', 'data/**', '.bench/**', 'dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // CloudFront Functions (cloudfront-js-2.0): CloudFront calls `handler`; the runtime's globals only.
    files: ['functions/edge/*.js'],
    languageOptions: { sourceType: 'module', globals: { Buffer: 'readonly', console: 'readonly', process: 'off', setTimeout: 'off', setInterval: 'off', URL: 'off' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { varsIgnorePattern: '^handler$', caughtErrors: 'none' }],
      'no-eval': 'error',
      'no-new-func': 'error',
    },
  },
);
