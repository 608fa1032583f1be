"""Each vehicle's photo work as a state of its own, and photo URLs known to be broken.

``Vehicle.photos_state`` (complete / pending / incomplete) says whether the gallery holds every
photo of the vehicle's EasyCars URL list. Until 0007 that was only implied by
``easycars_images_hash``, which a run killed before or during its photo work left behind, so
those vehicles never got their photos. Existing vehicles start as follows:

* ``easycars_images_hash`` is "pending" (photos that failed) -> incomplete;
* an EasyCars vehicle whose ``easycars_images_hash`` is not the hash of its stored URL list (a run
  stopped before its photos were done) -> pending;
* every other vehicle -> complete.

The next stock run fetches the photos of the pending and incomplete ones. ``BrokenPhotoURL``
starts empty. Backward drops both (nothing to put back).
"""

import hashlib

import django.db.models.deletion
from django.db import migrations, models

BATCH = 500
IMAGES_PENDING = "pending"


def _images_hash(urls):
    """As ``sync.stock.mapping.images_hash`` (kept here: a migration must not change with the code)."""
    return hashlib.sha256("\n".join(urls).encode("utf-8", "surrogatepass")).hexdigest() if urls else ""


def _initial_state(images_hash, urls):
    if images_hash == IMAGES_PENDING:
        return "incomplete"
    if not isinstance(urls, list) or not all(isinstance(url, str) for url in urls):
        urls = []
    return "complete" if images_hash == _images_hash(urls) else "pending"


def set_initial_photo_states(apps, schema_editor):
    Vehicle = apps.get_model("wagtail_easycars", "Vehicle")
    rows = (
        Vehicle.objects.filter(data_source="easycars")
        .order_by()
        .values_list("pk", "easycars_images_hash", "easycars_raw_data__ImageURLs")
    )
    by_state = {"pending": [], "incomplete": []}
    for pk, images_hash, urls in rows.iterator(chunk_size=2000):
        state = _initial_state(images_hash, urls)
        if state != "complete":
            by_state[state].append(pk)
    for state, pks in by_state.items():
        for start in range(0, len(pks), BATCH):
            Vehicle.objects.filter(pk__in=pks[start : start + BATCH]).update(photos_state=state)


class Migration(migrations.Migration):

    dependencies = [
        ('wagtail_easycars', '0007_lead_control_columns_and_claims'),
    ]

    operations = [
        migrations.CreateModel(
            name='BrokenPhotoURL',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('url_hash', models.CharField(editable=False, max_length=64)),
                ('url', models.CharField(editable=False, max_length=1000, verbose_name='URL (without query string)')),
                ('reason', models.CharField(editable=False, max_length=255, verbose_name='reason')),
                ('failures', models.PositiveIntegerField(default=1, editable=False, verbose_name='failures')),
                ('first_failed_at', models.DateTimeField(editable=False, verbose_name='first failed at')),
                ('last_failed_at', models.DateTimeField(editable=False, verbose_name='last failed at')),
                ('retry_after', models.DateTimeField(editable=False, verbose_name='retry after')),
                ('dealership', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='broken_photo_urls', to='wagtail_easycars.dealership', verbose_name='dealership')),
            ],
            options={
                'verbose_name': 'broken photo URL',
                'verbose_name_plural': 'broken photo URLs',
                'ordering': ['-last_failed_at'],
                'constraints': [models.UniqueConstraint(fields=('dealership', 'url_hash'), name='easycars_unique_broken_photo')],
            },
        ),
        migrations.AddField(
            model_name='vehicle',
            name='photos_state',
            field=models.CharField(choices=[('complete', 'Complete'), ('pending', 'Pending'), ('incomplete', 'Incomplete')], default='complete', editable=False, max_length=10, verbose_name='photos'),
        ),
        migrations.AddIndex(
            model_name='vehicle',
            index=models.Index(condition=models.Q(('photos_state__in', ['pending', 'incomplete'])), fields=['dealership'], name='easycars_vehicle_photos_idx'),
        ),
        migrations.RunPython(set_initial_photo_states, migrations.RunPython.noop, elidable=True),
    ]
