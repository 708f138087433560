/** Public API of @airy/box-builder. Its capabilities arrive with their own issues. */
export {};
