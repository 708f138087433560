/** Public API of @airy/bootstrap. Its capabilities arrive with their own issues. */
export {};
