/*
 * EasyCars settings: "Test connection" without saving (the result appears inline), and "Save" enabled
 * only after a successful test of the values on screen or with "Save without testing" ticked.
 * The server enforces the same rule; this only makes it visible.
 */
(function () {
  'use strict';

  var FIELD_IDS = {
    client_id: 'id_client_id',
    client_secret: 'id_client_secret',
    account_number: 'id_account_number',
    account_secret: 'id_account_secret',
  };

  function start() {
    var form = document.querySelector('form[data-easycars-settings]');
    if (!form || !window.fetch) return;
    var testButton = form.querySelector('[data-easycars-test]');
    var saveButton = form.querySelector('[data-easycars-save]');
    var hint = form.querySelector('[data-easycars-save-hint]');
    var skip = form.querySelector('input[name="save_without_testing"]');
    var result = form.querySelector('[data-easycars-test-result]');
    var message = result.querySelector('[data-easycars-test-message]');
    var tested = false;

    function updateSave() {
      var allowed = tested || (skip && skip.checked);
      saveButton.disabled = !allowed;
      if (hint) hint.hidden = allowed;
    }

    function markFields(names) {
      Object.keys(FIELD_IDS).forEach(function (name) {
        var input = document.getElementById(FIELD_IDS[name]);
        if (!input) return;
        var wrapper = input.closest('.w-field__wrapper') || input.parentNode;
        wrapper.classList.toggle('easycars-field-error', names.indexOf(name) !== -1);
        input.setAttribute('aria-invalid', names.indexOf(name) !== -1 ? 'true' : 'false');
      });
    }

    function show(ok, text) {
      result.hidden = false;
      result.classList.toggle('easycars-test-result--ok', ok);
      result.classList.toggle('easycars-test-result--failed', !ok);
      message.textContent = text;
    }

    form.addEventListener('input', function (event) {
      if (event.target === skip) return;
      if (tested) {
        tested = false;
        result.hidden = true;
      }
      updateSave();
    });
    if (skip) skip.addEventListener('change', updateSave);

    testButton.addEventListener('click', function (event) {
      event.preventDefault();
      var data = new FormData(form);
      data.delete('action');
      testButton.disabled = true;
      testButton.setAttribute('aria-busy', 'true');
      show(true, form.getAttribute('data-text-testing'));
      result.classList.remove('easycars-test-result--ok');
      fetch(form.getAttribute('data-test-url'), {
        method: 'POST',
        body: data,
        credentials: 'same-origin',
        headers: { Accept: 'application/json', 'X-Requested-With': 'XMLHttpRequest' },
      })
        .then(function (response) {
          return response.json().then(function (body) {
            return { status: response.status, body: body };
          });
        })
        .then(function (answer) {
          var body = answer.body;
          if (answer.status === 200) {
            tested = body.success;
            show(body.success, body.message);
            markFields(body.fields || []);
          } else {
            tested = false;
            show(false, body.message || form.getAttribute('data-text-failed'));
            markFields(Object.keys(body.errors || {}));
          }
          updateSave();
        })
        .catch(function () {
          tested = false;
          show(false, form.getAttribute('data-text-no-answer'));
          updateSave();
        })
        .finally(function () {
          testButton.disabled = false;
          testButton.removeAttribute('aria-busy');
        });
    });

    updateSave();
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
