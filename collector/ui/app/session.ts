/**
 * The search token of this tab: kept in sessionStorage (gone when the tab
 * closes, never in the URL, never sent anywhere but this collector's API
 * in the Authorization header).
 */
const TOKEN_KEY = "logship.token";

export function storedToken(): string | undefined {
  return sessionStorage.getItem(TOKEN_KEY) ?? undefined;
}

export function storeToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function forgetToken(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}
