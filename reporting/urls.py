from django.urls import path

from reporting import views

app_name = "reporting"

urlpatterns = [
    path("", views.index, name="index"),
    path("units/<int:pk>/", views.unit_dashboard, name="unit_dashboard"),
    path("organisation/", views.tenant_dashboard, name="tenant_dashboard"),
    path("central/", views.central_dashboard, name="central_dashboard"),
    path("evaluations/<int:pk>/form5.pdf", views.form5_pdf, name="form5"),
    path("exports/", views.export_create, name="export_create"),
    path("exports/<int:pk>/", views.export_detail, name="export_detail"),
    path("exports/<int:pk>/download/", views.export_download, name="export_download"),
    path("import/", views.import_upload, name="import"),
    path("import/template.xlsx", views.import_template, name="import_template"),
]
