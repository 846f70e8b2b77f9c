/**
 * The web UI's entry (bundled into /ui/app.js by collector/ui/build.ts):
 * sign-in with a search token, kept in this tab's sessionStorage, then the
 * search page (app.ts). A token is checked with a one-event search before
 * it is kept, so a wrong one is told at once.
 */
import { Api, ApiError, tokenProblem } from "./api.ts";
import { SearchApp } from "./app.ts";
import { byId } from "./dom.ts";
import { forgetToken, storedToken, storeToken } from "./session.ts";

const app = new SearchApp((message) => showSignIn(message));
const form = byId<HTMLFormElement>("signin-form");
const tokenInput = byId<HTMLInputElement>("signin-token");
const signInError = byId<HTMLElement>("signin-error");

function showSignIn(message: string | undefined): void {
  forgetToken();
  byId("signin").hidden = false;
  signInError.hidden = message === undefined;
  signInError.textContent = message ?? "";
  tokenInput.value = "";
  tokenInput.focus();
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  void signIn(tokenInput.value.trim());
});

async function signIn(token: string): Promise<void> {
  const api = new Api(token);
  signInError.hidden = true;
  try {
    await api.search({ q: "", since: "1m", until: "now", limit: "1" });
  } catch (error) {
    signInError.textContent = error instanceof ApiError ? tokenProblem(error) : String(error);
    signInError.hidden = false;
    tokenInput.select();
    return;
  }
  storeToken(token);
  byId("signin").hidden = true;
  app.start(api);
}

const token = storedToken();
if (token === undefined) showSignIn(undefined);
else app.start(new Api(token));
