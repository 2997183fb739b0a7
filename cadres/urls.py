from django.urls import path

from cadres import views

urlpatterns = [
    path("units/<int:pk>/", views.unit_detail, name="unit_detail"),
    path("units/<int:pk>/posts/", views.position_create, name="position_create"),
    path("posts/<int:pk>/assign/", views.assign, name="assign"),
    path("organisation/", views.admin_index, name="admin_index"),
    path("organisation/units/", views.admin_units, name="admin_units"),
    path("organisation/units/<int:pk>/move/", views.admin_unit_move, name="admin_unit_move"),
    path("organisation/cadres/", views.admin_cadres, name="admin_cadres"),
    path("organisation/cadres/<int:pk>/", views.admin_cadre_detail, name="admin_cadre_detail"),
    path("organisation/roles/", views.admin_roles, name="admin_roles"),
    path("organisation/roles/revoke/", views.admin_role_revoke, name="admin_role_revoke"),
]
