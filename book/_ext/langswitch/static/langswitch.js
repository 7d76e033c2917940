// Remember the reader's language when they switch, so the root chooser (../index.html)
// sends them to it on their next visit. Same key as the chooser page.
document.addEventListener("click", (event) => {
  const link = event.target.closest("a.langswitch-link");
  if (!link) return;
  try { localStorage.setItem("course-language", link.dataset.lang); } catch (e) { /* storage disabled */ }
});
