def tenant(request):
    user = getattr(request, "user", None)
    return {"current_tenant": getattr(user, "tenant", None) if user else None}
