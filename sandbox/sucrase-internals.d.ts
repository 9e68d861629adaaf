// Types for the two sucrase internals transpile.ts reads (its parser's token stream). sucrase 3.35 ships no
// typings at these CommonJS paths; these mirror dist/types/parser/*.d.ts.
declare module "sucrase/dist/parser/index.js" {
  export interface SucraseToken {
    type: number;
    contextualKeyword: number;
    start: number;
    end: number;
    scopeDepth: number;
    isType: boolean;
  }
  export function parse(
    input: string,
    isJSXEnabled: boolean,
    isTypeScriptEnabled: boolean,
    isFlowEnabled: boolean,
  ): { tokens: SucraseToken[]; scopes: { startTokenIndex: number; endTokenIndex: number; isFunctionScope: boolean }[] };
}
declare module "sucrase/dist/parser/tokenizer/types.js" {
  export const TokenType: Record<string, number>;
}
declare module "sucrase/dist/parser/tokenizer/keywords.js" {
  export const ContextualKeyword: Record<string, number>;
}
