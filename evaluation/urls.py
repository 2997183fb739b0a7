from django.urls import path

from evaluation import views

urlpatterns = [
    path("", views.home, name="home"),
    path("notifications/read/", views.notifications_read, name="notifications_read"),
    # The cadre.
    path("my/", views.my_quarter, name="my_quarter"),
    path("evaluations/<int:pk>/", views.evaluation_detail, name="evaluation_detail"),
    path("evaluations/<int:pk>/plan/", views.plan_edit, name="plan_edit"),
    path("evaluations/<int:pk>/plan/check/", views.plan_check, name="plan_check"),
    path("evaluations/<int:pk>/self-assessment/", views.self_assessment, name="self_assessment"),
    path(
        "evaluations/<int:pk>/self-assessment/draft/",
        views.self_assessment_draft,
        name="self_assessment_draft",
    ),
    # Transitions on one evaluation.
    path("evaluations/<int:pk>/approve/", views.approve_plan, name="approve_plan"),
    path("evaluations/<int:pk>/return/", views.return_evaluation, name="return_evaluation"),
    path("evaluations/<int:pk>/vet/", views.vet, name="vet"),
    path("evaluations/<int:pk>/propose/", views.propose, name="propose"),
    path("evaluations/<int:pk>/decide/", views.decide, name="decide"),
    path("evaluations/<int:pk>/publish/", views.publish, name="publish"),
    path("evaluations/<int:pk>/defer/", views.defer, name="defer"),
    path("evaluations/<int:pk>/reopen/", views.reopen, name="reopen"),
    path(
        "evaluations/<int:pk>/suspension/",
        views.suspension_propose,
        name="suspension_propose",
    ),
    # Direct superior level.
    path("inbox/", views.superior_inbox, name="superior_inbox"),
    path("inbox/approve/", views.approve_plans, name="approve_plans"),
    # Personnel advisory body.
    path("vetting/", views.vetting_queue, name="vetting_queue"),
    path("catalogue/", views.catalogue_list, name="catalogue_list"),
    path("catalogue/<int:pk>/", views.catalogue_detail, name="catalogue_detail"),
    # Managing authority.
    path("decisions/", views.decision_list, name="decision_list"),
    path("decisions/<int:pk>/", views.decision_board, name="decision_board"),
    path("decisions/<int:pk>/meter/", views.quota_meter, name="quota_meter"),
    path("decisions/<int:pk>/collective/", views.collective, name="collective"),
    path("discrepancies/", views.discrepancies, name="discrepancies"),
    path("flags/", views.flags, name="flags"),
    path("suspensions/", views.suspension_list, name="suspension_list"),
    path("suspensions/<int:pk>/decide/", views.suspension_decide, name="suspension_decide"),
    # Organisation department.
    path("publication/", views.publication, name="publication"),
    path("publication/<int:pk>/", views.publish_period, name="publish_period"),
    path("progress/", views.progress, name="progress"),
    path("results/", views.results, name="results"),
    # Tenant administrator: tenant-wide settings of the evaluation.
    path("organisation/periods/", views.admin_periods, name="admin_periods"),
    path("organisation/periods/<int:pk>/open/", views.admin_period_open, name="admin_period_open"),
    path("organisation/rules/", views.admin_rule_sets, name="admin_rule_sets"),
]
