// Triage page: choosing a reply template fills the text area with its filled-in text,
// which the operator may edit before sending (without JavaScript, the server fills it).
const filled = JSON.parse(document.getElementById("filled-templates").textContent);
const template = document.querySelector("#reply-form select[name=template]");
const text = document.querySelector("#reply-form textarea[name=text]");
if (template && text) {
  template.addEventListener("change", () => {
    if (filled[template.value] !== undefined) text.value = filled[template.value];
  });
}
