/** Public API of @airy/ngrok-tunnel. Its capabilities arrive with their own issues. */
export {};
