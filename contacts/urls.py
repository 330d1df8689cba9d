from django.urls import path

from contacts.views import people, privacy, relationship_map, transfer

app_name = "contacts"
urlpatterns = [
    # People: the account's table, the person page, create/edit/leave, relationships and links.
    path("accounts/<int:account_pk>/people/", people.people_list, name="people"),
    path("accounts/<int:account_pk>/people/new/", people.contact_create, name="create"),
    path("contacts/<int:pk>/", people.contact_detail, name="detail"),
    path("contacts/<int:pk>/edit/", people.contact_edit, name="edit"),
    path("contacts/<int:pk>/leave/", people.contact_leave, name="leave"),
    path("contacts/<int:pk>/relationships/", people.relationship_add, name="relationship_add"),
    path("contacts/<int:pk>/links/", people.link_add, name="link_add"),
    path("links/<int:pk>/delete/", people.link_delete, name="link_delete"),
    path("coverage/", people.coverage, name="coverage"),
    path("handover/", people.handover, name="handover"),
    # Import and export (contacts/views/transfer.py).
    path("accounts/<int:account_pk>/people/import/", transfer.import_people, name="import"),
    path(
        "accounts/<int:account_pk>/people/import/confirm/",
        transfer.import_confirm,
        name="import_confirm",
    ),
    path(
        "accounts/<int:account_pk>/people/export.csv", transfer.export_people_csv, name="export_csv"
    ),
    path(
        "accounts/<int:account_pk>/people/export.xlsx",
        transfer.export_people_xlsx,
        name="export_xlsx",
    ),
    # Relationship map (contacts/views/relationship_map.py).
    path("accounts/<int:account_pk>/people/map/", relationship_map.map_page, name="map"),
    path("accounts/<int:account_pk>/people/map.json", relationship_map.map_data, name="map_data"),
    # Privacy (contacts/views/privacy.py): their data as JSON, erasure (administrators).
    path("contacts/<int:pk>/personal-data.json", privacy.personal_data, name="personal_data"),
    path("contacts/<int:pk>/erase/", privacy.erase, name="erase"),
]
