// @ts-check
const tseslint = require('typescript-eslint');
const vue = require('eslint-plugin-vue');
const { plugin: layers } = require('./eslint/layers');

module.exports = tseslint.config(
  { ignores: ['node_modules/', 'out/', 'dist/', 'coverage/', '.gl/', '.whl/'] },
  ...tseslint.configs.recommended,
  ...vue.configs['flat/essential'],
  {
    files: ['**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.vue'], sourceType: 'module' } },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    // architecture.md's layering; test/eslint/layers.test.ts shows both rules failing on a breach.
    files: ['main/**/*.ts', 'preload/**/*.ts', 'common/**/*.ts', 'renderer/src/**/*.{ts,vue}'],
    plugins: { layers },
    rules: { 'layers/allowed-imports': 'error', 'layers/no-cycle': 'error' },
  },
);
