/** Where the tunnel keeps its files, and where the authtoken comes from. */
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";

/** Config files searched for `authtoken`, in order: ours, then the ngrok agent's own. */
export function tokenFiles(home = homedir()): string[] {
	return [
		join(home, ".airy", "tunnel.yml"),
		join(home, ".config", "ngrok", "ngrok.yml"),
		join(home, "Library", "Application Support", "ngrok", "ngrok.yml"),
	];
}

/** The authtoken: NGROK_AUTHTOKEN, else the first config file that has one (`authtoken` or `agent.authtoken`). */
export async function findToken(
	env: NodeJS.ProcessEnv = process.env,
	files = tokenFiles(),
): Promise<string | undefined> {
	if (env.NGROK_AUTHTOKEN?.trim()) return env.NGROK_AUTHTOKEN.trim();
	for (const file of files) {
		const text = await readFile(file, "utf8").catch(() => undefined);
		if (!text) continue;
		try {
			const config = parse(text) as {
				authtoken?: string;
				agent?: { authtoken?: string };
			} | null;
			const token = config?.agent?.authtoken ?? config?.authtoken;
			if (typeof token === "string" && token.trim()) return token.trim();
		} catch {
			// not YAML: not a config we can read
		}
	}
	return undefined;
}
