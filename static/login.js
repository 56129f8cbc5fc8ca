// The login page: the token goes to GET /api/session as a bearer token (never in a URL); a right one sets the
// session cookie, and the dashboard opens.
const form = document.getElementById("login");
const error = document.getElementById("login-error");

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  error.classList.add("hidden");
  const token = document.getElementById("token").value.trim();
  try {
    const response = await fetch("/api/session", { headers: { Authorization: `Bearer ${token}` }, cache: "no-store" });
    if (response.ok) {
      location.href = "/";
      return;
    }
    error.textContent = response.status === 401 ? "That is not the token." : `The server answered ${response.status}.`;
  } catch (_) {
    error.textContent = "The server cannot be reached.";
  }
  error.classList.remove("hidden");
});
