// ESLint flat config: the recommended rules of ESLint and typescript-eslint
// (type-aware), plus rules that keep user data out of HTML.
import eslint from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "build/", "node_modules/"] },
  eslint.configs.recommended,
  {
    files: ["src/**/*.ts"],
    extends: [...tseslint.configs.strictTypeChecked, ...tseslint.configs.stylisticTypeChecked],
    languageOptions: {
      globals: globals.browser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Names and other user data are set with textContent, never parsed as HTML.
      "no-restricted-properties": [
        "error",
        { property: "innerHTML", message: "Set text with textContent; build elements with the DOM." },
        { property: "outerHTML", message: "Set text with textContent; build elements with the DOM." },
        { property: "insertAdjacentHTML", message: "Build elements with the DOM." },
      ],
      "no-restricted-syntax": [
        "error",
        {
          selector: "CallExpression[callee.property.name='write'][callee.object.name='document']",
          message: "document.write parses HTML.",
        },
      ],
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true }],
    },
  },
  {
    files: ["**/*.js", "**/*.mjs"],
    languageOptions: { globals: globals.node },
  },
);
