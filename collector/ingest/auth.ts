/**
 * Bearer tokens of the collector config. Every configured token is compared
 * with the presented one, in constant time over SHA-256 digests (equal
 * lengths, no early exit), so the time taken says nothing about how much of
 * a token was right or which token matched.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { TokenConfig } from "../config.ts";
import { IngestError } from "./errors.ts";

export type Role = TokenConfig["role"];

export interface Principal {
  tenant: string;
  role: Role;
}

interface TokenEntry {
  digest: Buffer;
  principal: Principal;
}

export class TokenTable {
  private readonly entries: TokenEntry[];
  /** With no tokens configured, every request acts as tenant "default" with role admin (docs/INGEST.md). */
  readonly open: boolean;

  constructor(tokens: readonly TokenConfig[]) {
    this.entries = tokens.map((token) => ({ digest: digest(token.token), principal: { tenant: token.tenant, role: token.role } }));
    this.open = tokens.length === 0;
  }

  /** The principal of an `Authorization` header that grants one of `roles`; throws IngestError 401/403. */
  authorize(authorization: string | undefined, roles: readonly Role[]): Principal {
    if (this.open) return { tenant: "default", role: "admin" };
    const match = authorization === undefined ? null : /^Bearer[ ]+(\S+)\s*$/i.exec(authorization);
    if (match === null) throw new IngestError("LOGSHIP_AUTH_MISSING", "missing bearer token: send `Authorization: Bearer <token>`");
    const presented = digest(match[1] as string);
    let found: Principal | undefined;
    for (const entry of this.entries) {
      // No early exit: every entry is compared.
      if (timingSafeEqual(entry.digest, presented) && found === undefined) found = entry.principal;
    }
    if (found === undefined) throw new IngestError("LOGSHIP_AUTH_INVALID", "unknown token");
    if (!roles.includes(found.role)) throw new IngestError("LOGSHIP_AUTH_FORBIDDEN", `token role "${found.role}" may not do this (needs ${roles.join(" or ")})`);
    return found;
  }
}

function digest(token: string): Buffer {
  return createHash("sha256").update(token, "utf8").digest();
}
