// Small behaviours shared by every page (loaded by base.html, no dependencies).
//  - <details class="menu"> dropdowns: close on outside click, on Escape, and when another opens.
//  - .tabs / .tab / .tab-panel: switch panels by aria-controls; fires "tabchange" on the .tabs element.
//  - [data-modal-open="id"] opens <dialog id="id"> (or un-hides div.modal); [data-modal-close] closes it.
//  - <form data-confirm="Really?"> asks before submitting.
(function () {
  "use strict";

  function closeMenus(except) {
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      if (menu !== except) menu.removeAttribute("open");
    });
  }

  document.addEventListener("click", function (event) {
    var menu = event.target.closest("details.menu");
    closeMenus(menu);
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    closeMenus(null);
    document.querySelectorAll("div.modal:not([hidden])").forEach(closeModal);
  });

  function selectTab(tab) {
    var list = tab.closest(".tabs");
    if (!list) return;
    list.querySelectorAll(".tab").forEach(function (other) {
      var selected = other === tab;
      other.setAttribute("aria-selected", selected ? "true" : "false");
      other.classList.toggle("active", selected);
      var panel = document.getElementById(other.getAttribute("aria-controls"));
      if (panel) panel.hidden = !selected;
    });
    list.dispatchEvent(new CustomEvent("tabchange", { bubbles: true, detail: { tab: tab } }));
  }

  document.addEventListener("click", function (event) {
    var tab = event.target.closest(".tabs .tab");
    if (tab) {
      event.preventDefault();
      selectTab(tab);
    }
  });

  function openModal(modal) {
    if (typeof modal.showModal === "function") {
      if (!modal.open) modal.showModal();
    } else {
      modal.hidden = false;
    }
    modal.dispatchEvent(new CustomEvent("modalopen", { bubbles: true }));
  }

  function closeModal(modal) {
    if (typeof modal.close === "function") {
      modal.close();
    } else {
      modal.hidden = true;
    }
  }

  document.addEventListener("click", function (event) {
    var opener = event.target.closest("[data-modal-open]");
    if (opener) {
      var modal = document.getElementById(opener.getAttribute("data-modal-open"));
      if (modal) {
        event.preventDefault();
        openModal(modal);
      }
      return;
    }
    var closer = event.target.closest("[data-modal-close]");
    if (closer) {
      var owner = closer.closest("dialog, .modal");
      if (owner) {
        event.preventDefault();
        closeModal(owner);
      }
    }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });

  window.SiteUI = { openModal: openModal, closeModal: closeModal, selectTab: selectTab };
})();
